"""Palette files: named palettes under ``palettes/``, and palettes in text, NPZ or PNG files.

Text palettes are one ``R G B`` line per colour (0..255, spaces or commas), in index order,
exactly like the course's ``colormap.txt``; blank lines and ``#`` comments are ignored.
An NPZ palette holds a ``palette`` array (uint8 K x 3); a PNG palette is the PLTE of a palette
PNG (for a genkit sheet, the stream's palette without the sheet's padding colour).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np

from .errors import GenkitError
from .io import PNG_MAGIC, ZIP_MAGICS, decode_png, write_file_atomic

PALETTE_DIR = Path(os.environ.get("GENKIT_PALETTES", Path(__file__).resolve().parent.parent / "palettes"))


def grey256() -> np.ndarray:
    """The 256 grey levels, index = level (MNIST's palette)."""
    return np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)


def is_grey(palette: np.ndarray) -> bool:
    """Whether every colour of the palette is a grey (R = G = B)."""
    palette = np.asarray(palette)
    return bool(np.all(palette[:, 0] == palette[:, 1]) and np.all(palette[:, 1] == palette[:, 2]))


def palette_names() -> list[str]:
    """Names of the palettes shipped under palettes/ (file stems of its ``*.txt`` files)."""
    if not PALETTE_DIR.is_dir():
        return []
    return sorted(p.stem for p in PALETTE_DIR.glob("*.txt"))


def load_palette(spec: str) -> tuple[np.ndarray, str]:
    """A palette name (see :func:`palette_names`) or file -> (uint8 K x 3, its name)."""
    named = PALETTE_DIR / f"{spec}.txt"
    if os.sep not in spec and "." not in spec and named.is_file():
        return parse_text(named.read_text(), source=spec), spec
    path = Path(spec)
    if not path.is_file():
        names = ", ".join(palette_names()) or "none"
        raise GenkitError(f"no such palette name or file (named palettes: {names})", source=spec)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise GenkitError(e.strerror or str(e), source=spec) from None
    try:
        return parse_bytes(data), path.stem
    except GenkitError as e:
        e.source = e.source or spec
        raise


def parse_bytes(data: bytes) -> np.ndarray:
    """A palette from the bytes of a text, NPZ or PNG palette file (told apart by content)."""
    if not data:
        raise GenkitError("empty palette file")
    if data.startswith(PNG_MAGIC):
        return _from_png(data)
    if data[:4] in ZIP_MAGICS:
        return _from_npz(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GenkitError("not a palette file (text, NPZ or PNG)") from None
    return parse_text(text)


def parse_text(text: str, source: str | None = None) -> np.ndarray:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p for p in re.split(r"[\s,]+", line) if p]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise GenkitError(f"line {number}: expected 'R G B' integers, got {line!r}", source) from None
        if len(values) != 3 or not all(0 <= v <= 255 for v in values):
            raise GenkitError(f"line {number}: expected three integers 0..255, got {line!r}", source)
        rows.append(values)
    return _checked(np.array(rows, dtype=np.uint8).reshape(-1, 3), source)


def _from_npz(data: bytes) -> np.ndarray:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            if "palette" not in npz.files:
                raise GenkitError("NPZ has no 'palette' array")
            palette = npz["palette"]
    except GenkitError:
        raise
    except Exception as e:  # zipfile/zlib/ValueError: all mean a broken file
        raise GenkitError(f"unreadable NPZ ({type(e).__name__})") from None
    if palette.dtype.kind not in "iu" or palette.ndim != 2 or palette.shape[1:] != (3,):
        raise GenkitError(f"'palette' must be an integer K x 3 array, got {palette.dtype} {palette.shape}")
    if palette.size and (palette.min() < 0 or palette.max() > 255):
        raise GenkitError("palette values must be 0..255")
    return _checked(palette.astype(np.uint8))


def _from_png(data: bytes) -> np.ndarray:
    stream = decode_png(data)
    if stream.is_palette:  # a genkit sheet: its own palette, without the padding colour
        return stream.palette
    from PIL import Image

    im = Image.open(io.BytesIO(data))
    if im.mode != "P":
        raise GenkitError(f"PNG has no palette (mode {im.mode}); give a palette PNG")
    return _checked(np.array(im.getpalette(), dtype=np.uint8).reshape(-1, 3))


def _checked(palette: np.ndarray, source: str | None = None) -> np.ndarray:
    if not 1 <= len(palette) <= 256:
        raise GenkitError(f"a palette needs 1 to 256 colours, found {len(palette)}", source)
    return np.ascontiguousarray(palette)


def palette_text(palette: np.ndarray, comment: str | None = None) -> str:
    lines = [f"# {line}" for line in (comment or "").splitlines()]
    lines += [f"{r} {g} {b}" for r, g, b in np.asarray(palette, dtype=np.uint8).tolist()]
    return "\n".join(lines) + "\n"


def save_palette(palette: np.ndarray, path: str | os.PathLike, comment: str | None = None) -> None:
    """Write a palette: ``.npz`` -> NPZ, ``.png`` -> a 1-row palette PNG, anything else -> text."""
    palette = _checked(np.asarray(palette, dtype=np.uint8).reshape(-1, 3))
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        buf = io.BytesIO()
        np.savez_compressed(buf, palette=palette)
        data = buf.getvalue()
    elif suffix == ".png":
        from PIL import Image

        im = Image.fromarray(np.arange(len(palette), dtype=np.uint8)[None, :])
        im.putpalette(palette.reshape(-1).tolist())
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        data = buf.getvalue()
    else:
        data = palette_text(palette, comment).encode()
    write_file_atomic(path, data)
