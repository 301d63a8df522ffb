"""A look at images in the terminal: coloured half-block characters, no other program needed.

Each character cell shows two pixels stacked, the upper half-block ``▀`` in the top pixel's
colour over a background in the bottom one's. :func:`plan` works out, before any work is done,
how many tiles of a given size fit on one screen of the terminal; :func:`show` draws them with
rich. Image commands use both when stdout is a terminal and no ``-o`` is given: they make only
what the screen shows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np

HALF = "\u2580"  # upper half block
GAP = 1  # columns (and text lines) between tiles


@dataclass(frozen=True)
class Plan:
    """How a sheet of ``count`` tiles fits the screen: ``shown`` tiles, ``cols`` a row, each
    pixel drawn ``scale`` characters wide (and ``scale`` pixel rows tall)."""

    count: int
    shown: int
    cols: int
    scale: int

    @property
    def left_out(self) -> int:
        return self.count - self.shown


def terminal_size() -> tuple[int, int]:
    """(columns, lines) of the terminal, with a fallback of 80x24."""
    size = shutil.get_terminal_size((80, 24))
    return max(20, size.columns), max(6, size.lines)


def plan(count: int, height: int, width: int, *, columns: int | None = None, lines: int | None = None,
         cols: int | None = None) -> Plan:
    """The tiles of a (height x width)-pixel sheet that fit one screen (two lines kept free for
    the notes), at the largest integer scale (up to 4) that still fits one tile a row."""
    if columns is None or lines is None:
        tc, tl = terminal_size()
        columns, lines = columns or tc, lines or tl
    lines = max(1, lines - 2)
    scale = 1
    while scale < 4 and width * (scale + 1) <= columns and -(-height * (scale + 1) // 2) <= lines and \
            width * scale < 16:
        scale += 1
    tile_w, tile_h = width * scale, -(-height * scale // 2)
    per_row = max(1, (columns + GAP) // (tile_w + GAP))
    if cols:
        per_row = min(per_row, cols)
    rows = max(1, (lines + GAP) // (tile_h + GAP))
    shown = max(1, min(count, per_row * rows))
    return Plan(count=count, shown=shown, cols=min(per_row, shown), scale=scale)


def show(rgb: np.ndarray, layout: Plan, console=None) -> None:
    """Draw images (N, H, W, 3) uint8 as a sheet of ``layout.cols`` tiles a row."""
    from rich.console import Console
    from rich.style import Style
    from rich.text import Text

    console = console or Console()
    images = np.asarray(rgb)[: layout.shown]
    if layout.scale > 1:
        images = images.repeat(layout.scale, axis=1).repeat(layout.scale, axis=2)
    n, h, w = images.shape[:3]
    if h % 2:  # an odd height: a white pixel row under the last
        images = np.concatenate([images, np.full((n, 1, w, 3), 255, images.dtype)], axis=1)
    styles: dict = {}

    def style(top, bottom):
        key = (tuple(top), tuple(bottom))
        if key not in styles:
            styles[key] = Style(color=f"rgb({top[0]},{top[1]},{top[2]})", bgcolor=f"rgb({bottom[0]},{bottom[1]},{bottom[2]})")
        return styles[key]

    for start in range(0, n, layout.cols):
        row = images[start : start + layout.cols]
        for y in range(0, row.shape[1], 2):
            line = Text(no_wrap=True, overflow="crop")
            for i, img in enumerate(row):
                if i:
                    line.append(" " * GAP)
                for x in range(w):
                    line.append(HALF, style(img[y, x], img[y + 1, x]))
            console.print(line, soft_wrap=False, crop=True)
        if start + layout.cols < n:
            console.print()
