"""gk-sample: draw new images from a trained model."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cli.common import entry, guarded, load_model, make_app, write_output

PROG = "gk-sample"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    model: Annotated[str, typer.Argument(help="A .keras checkpoint, a run folder, or a zoo name (pixelrnn, pixelcnn) for the shipped checkpoint.", metavar="MODEL", show_default=False)],
    n: Annotated[int, typer.Option("-n", "--count", metavar="N", help="How many images.")] = 16,
    temperature: Annotated[float, typer.Option("--temperature", "-t", metavar="T", help="Divide the logits by T; 0 is greedy (every image the same).")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", metavar="INT", help="Same seed, same images.")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Images drawn at once.")] = 64,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", metavar="png|npz", help="Output format [default: from -o's extension, else png].", show_default=False)] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")] = None,
    scale: Annotated[Optional[int], typer.Option("--scale", metavar="N", help="PNG: enlarge each tile N times [default: to at least 64 px].", show_default=False)] = None,
    cols: Annotated[Optional[int], typer.Option("--cols", metavar="N", help="PNG: tiles per row [default: square].", show_default=False)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show a traceback for unexpected errors.")] = False,
) -> None:
    """Draw N images from MODEL and write a PNG contact sheet (or an NPZ stream).

    Pixel models draw one pixel at a time in raster order, each from the palette distribution
    given every pixel drawn so far (LSTM states and conv rows are carried, not recomputed).

    Example: gk-sample pixelrnn -n 16 --temperature 0.9 > pokemon.png
    """
    from genkit.errors import GenkitError
    from genkit.progress import bar

    if n < 1:
        raise GenkitError("-n must be at least 1")
    if batch_size < 1:
        raise GenkitError("--batch-size must be at least 1")
    net = load_model(model)
    with bar(n, "sampling") as advance:
        stream = net.sample_stream(n, temperature=temperature, seed=seed, batch_size=batch_size, progress=advance)
    write_output(stream, output, fmt, scale=scale, cols=cols)


run = entry(app, PROG)

if __name__ == "__main__":
    run()
