"""gk-quantize: images -> palette-coded stream (NPZ) or contact sheet (PNG)."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from typing import Annotated, List, Optional

import typer

from cli.common import Output, Scale, Verbose, Version, entry, format_option, guarded, make_app, note, output_format, say, \
    seed_option, show_in_terminal, terminal_plan

PROG = "gk-quantize"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    sources: Annotated[Optional[List[str]], typer.Argument(help="Images (PNG, JPEG, GIF, BMP, WebP, TIFF), NPZ streams, folders, globs or - for stdin.", show_default=False, metavar="SOURCE")] = None,
    colors: Annotated[Optional[int], typer.Option("--colors", "-c", metavar="N", help="Fit a palette of N colours by k-means in CIELAB [default: 167].", show_default=False)] = None,
    palette: Annotated[Optional[str], typer.Option("--palette", "-p", metavar="NAME|FILE", help="Map onto a fixed palette: a name under palettes/ or a text (R G B lines), NPZ or PNG file.")] = None,
    save_palette: Annotated[Optional[str], typer.Option("--save-palette", metavar="FILE", help="Also write the palette to FILE (.txt, .npz or .png).")] = None,
    crop: Annotated[Optional[str], typer.Option("--crop", metavar="SIZE", help="Centre-crop each image to N or WxH pixels (after --resize); at most 8192 a side.")] = None,
    resize: Annotated[Optional[str], typer.Option("--resize", metavar="SIZE", help="First scale each image: N makes the shorter side N (the aspect kept), WxH stretches to exactly that; at most 8192 a side.")] = None,
    fmt: Annotated[Optional[str], format_option("npz")] = None,
    output: Output = None,
    seed: Annotated[int, seed_option("Seed of the k-means initialisation.")] = 0,
    scale: Scale = None,
    cols: Annotated[Optional[int], typer.Option("--cols", metavar="N", help="PNG only: tiles per row [default: square].", show_default=False)] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable files (and say how many) instead of stopping.")] = False,
    verbose: Verbose = False,
    version: Version = None,
) -> None:
    """Quantize images to one shared palette: each pixel becomes an index into K colours.

    Reads images (PNG, JPEG, GIF's first frame, BMP, WebP, TIFF), folders, globs, NPZ streams
    or - (stdin); writes an NPZ stream (indices + palette) or a PNG contact sheet to stdout or
    -o FILE; on a terminal, without -o, it draws the sheet there. A folder's other files are
    skipped and counted (-v names them).

    Examples:

    \b
      gk-quantize sprites/ --crop 20 > pokemon.npz
      gk-quantize photos/ --resize 64 --crop 48 -o photos.png
    """
    # The products here are tiny (3-D colours); OpenBLAS's idle worker threads would spin on the
    # second core for nothing (1.6x the CPU time, and a slower run on a busy machine). Only before
    # numpy is loaded (a process of its own): a host process keeps its settings.
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from genkit.errors import GenkitError
    from genkit.io import expand_sources, write_stream
    from genkit.progress import bar
    from genkit.quantize import quantize_sources
    from genkit.transforms import parse_resize, parse_size

    fmt = output_format(output, fmt, "npz")
    crop_hw = parse_size(crop, "--crop") if crop else None
    resize_hw = parse_resize(resize, "--resize") if resize else None
    others: list[str] = []
    files = expand_sources(sources or ["-"], skipped=others)
    if others:
        note(PROG, f"skipped {len(others)} file(s) that are not images or streams" + ("" if verbose else " (-v names them)"))
        if verbose:
            for name in others:
                note(PROG, f"skipped {name}")
    skipped: list[str] = []

    def on_skip(src: str, e: GenkitError) -> None:
        skipped.append(src)
        say(PROG, f"skipped {e}")

    # One file needs no bar (and rich, which draws it, takes longer to import than it is read).
    with bar(len(files), "reading") if len(files) > 1 else nullcontext(None) as advance:
        stream = quantize_sources(
            files,
            n_colors=colors,
            palette=palette,
            crop=crop_hw,
            resize=resize_hw,
            seed=seed,
            skip_bad=skip_bad,
            on_skip=on_skip,
            on_read=advance,
        )
    if skipped:
        say(PROG, f"skipped {len(skipped)} bad file(s) of {len(files)}")
    terminal = terminal_plan(output, len(stream), *stream.size, cols=cols)
    if terminal is not None:
        show_in_terminal(stream, terminal, PROG)
    else:
        write_stream(stream, output, fmt, scale=scale, cols=cols)
    if save_palette:
        from genkit.palettes import save_palette as write_palette

        write_palette(stream.palette, save_palette, comment=f"{len(stream.palette)} colours, written by {PROG}")


run = entry(app, PROG)

if __name__ == "__main__":
    run()
