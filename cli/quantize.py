"""gk-quantize: images -> palette-coded stream (NPZ) or contact sheet (PNG)."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cli.common import Output, Scale, Verbose, entry, format_option, guarded, make_app, output_format, say, seed_option

PROG = "gk-quantize"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    sources: Annotated[Optional[List[str]], typer.Argument(help="PNG/NPZ files, folders, globs or - for stdin.", show_default=False, metavar="SOURCE")] = None,
    colors: Annotated[Optional[int], typer.Option("--colors", "-c", metavar="N", help="Fit a palette of N colours by k-means in CIELAB [default: 167].", show_default=False)] = None,
    palette: Annotated[Optional[str], typer.Option("--palette", "-p", metavar="NAME|FILE", help="Map onto a fixed palette: a name under palettes/ or a text (R G B lines), NPZ or PNG file.")] = None,
    save_palette: Annotated[Optional[str], typer.Option("--save-palette", metavar="FILE", help="Also write the palette to FILE (.txt, .npz or .png).")] = None,
    crop: Annotated[Optional[str], typer.Option("--crop", metavar="SIZE", help="Centre-crop each image to N or WxH pixels (after --resize).")] = None,
    resize: Annotated[Optional[str], typer.Option("--resize", metavar="SIZE", help="Resize each image to N or WxH pixels first.")] = None,
    fmt: Annotated[Optional[str], format_option("npz")] = None,
    output: Output = None,
    seed: Annotated[int, seed_option("Seed of the k-means initialisation.")] = 0,
    scale: Scale = None,
    cols: Annotated[Optional[int], typer.Option("--cols", metavar="N", help="PNG only: tiles per row [default: square].", show_default=False)] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable files (and say how many) instead of stopping.")] = False,
    verbose: Verbose = False,
) -> None:
    """Quantize images to one shared palette: each pixel becomes an index into K colours.

    Reads PNG files, folders, globs, NPZ streams or - (stdin); writes an NPZ stream
    (indices + palette) or a PNG contact sheet to stdout or -o FILE.

    Example: gk-quantize sprites/ --crop 20 > pokemon.npz
    """
    from genkit.errors import GenkitError
    from genkit.io import expand_sources, write_stream
    from genkit.palettes import save_palette as write_palette
    from genkit.progress import bar
    from genkit.quantize import quantize_sources
    from genkit.transforms import parse_size

    fmt = output_format(output, fmt, "npz")
    crop_hw = parse_size(crop, "--crop") if crop else None
    resize_hw = parse_size(resize, "--resize") if resize else None
    files = expand_sources(sources or ["-"])
    skipped: list[str] = []

    def on_skip(src: str, e: GenkitError) -> None:
        skipped.append(src)
        say(PROG, f"skipped {e}")

    with bar(len(files), "reading") as advance:
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
    write_stream(stream, output, fmt, scale=scale, cols=cols)
    if save_palette:
        write_palette(stream.palette, save_palette, comment=f"{len(stream.palette)} colours, written by {PROG}")


run = entry(app, PROG)

if __name__ == "__main__":
    run()
