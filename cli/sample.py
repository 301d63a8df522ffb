"""gk-sample: draw new images from a trained model."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cli.common import Output, Scale, Verbose, entry, guarded, load_model, make_app, model_argument, seed_option, \
    temperature_option, write_output

PROG = "gk-sample"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    model: Annotated[str, model_argument("A .keras checkpoint, a run folder, or a zoo name (pixelrnn, pixelcnn, vae, cvae) for the shipped checkpoint.")],
    n: Annotated[int, typer.Option("-n", "--count", metavar="N", help="How many images.")] = 16,
    temperature: Annotated[float, temperature_option("Pixel models: divide the logits by T; 0 is greedy (every image the same). VAEs: scale the prior's spread by T.")] = 1.0,
    grid: Annotated[Optional[str], typer.Option("--grid", metavar="I,J", help="VAEs: sweep code dimensions I and J on a grid, the others fixed (the lecture's figure).", show_default=False)] = None,
    value_range: Annotated[str, typer.Option("--range", metavar="LO:HI", help="--grid: the values swept.")] = "-3:3",
    steps: Annotated[int, typer.Option("--steps", metavar="N", help="--grid: values per dimension (an N x N sheet).")] = 10,
    at: Annotated[Optional[str], typer.Option("--at", metavar="IMAGE", help="--grid: fix the other dimensions at this image's code [default: at 0].", show_default=False)] = None,
    labels: Annotated[Optional[str], typer.Option("--labels", metavar="LIST", help="Conditional models: the labels to draw, e.g. 0-9 or 3,5 (cycled) [default: 0, 1, 2, ...].", show_default=False)] = None,
    seed: Annotated[int, seed_option("Same seed, same images.")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Images drawn at once.")] = 64,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", metavar="png|npz|txt|json", show_default=False, help=(
        "Images: png or npz. Sentences: txt (one a line) or json (one object a line: "
        '{"step": i, "text": ..., "logp": log p(text | z) in nats, summed over its tokens and <eos>}). '
        "[default: from -o's extension, else png or txt]"))] = None,
    output: Output = None,
    scale: Scale = None,
    cols: Annotated[Optional[int], typer.Option("--cols", metavar="N", help="PNG: tiles per row [default: square].", show_default=False)] = None,
    verbose: Verbose = False,
) -> None:
    """Draw N images from MODEL and write a PNG contact sheet (or an NPZ stream).

    Pixel models draw one pixel at a time in raster order, each from the palette distribution
    given every pixel drawn so far (LSTM states and conv rows are carried, not recomputed).

    VAEs decode codes drawn from the prior. With --grid I,J they instead fix every code
    dimension but I and J (at 0, or at the code of --at IMAGE) and sweep those two over
    --range in --steps values: rows follow I, columns J.

    Sentence models write one sentence a line (-f txt), or with -f json one object a line:
    {"step": i, "text": ..., "logp": ...}, logp being log p(text | z) in nats, the decoder's
    log-probability of the sentence's tokens and its <eos> given the code z it was decoded from.

    Examples: gk-sample pixelrnn -n 16 --temperature 0.9 > pokemon.png;
    gk-sample vae --grid 3,7 --range -3:3 --steps 10 > grid.png
    """
    from cli.common import parse_labels
    from genkit import models
    from genkit.errors import GenkitError
    from genkit.models.base import read_one
    from genkit.models.capabilities import Conditional, Samples, SweepsCode, require
    from genkit.progress import bar
    from genkit.text import text_format

    if n < 1:
        raise GenkitError("-n must be at least 1")
    if batch_size < 1:
        raise GenkitError("--batch-size must be at least 1")
    wanted = parse_labels(labels) if labels else None
    dims = None
    if grid is not None:
        try:
            dims = tuple(int(v) for v in grid.split(","))
            lo, hi = (float(v) for v in value_range.split(":"))
        except ValueError:
            raise GenkitError(f"--grid takes I,J and --range LO:HI, got {grid!r} and {value_range!r}") from None
        if len(dims) != 2:
            raise GenkitError(f"--grid takes two dimensions I,J, got {grid!r}")
        if steps < 2:
            raise GenkitError("--steps must be at least 2")
    elif at is not None:
        raise GenkitError("--at goes with --grid")
    if models.data_kind(models.family_of(models.resolve(model))) == "text":
        fmt = text_format(output, fmt)  # decided before any work: an image format is refused here
    net = load_model(model, Samples, command=PROG)
    if dims is not None or wanted is not None:
        require(net, SweepsCode, command="--grid and --labels", verb="need")
    if wanted is not None:
        require(net, Conditional, command="--labels")
    if dims is not None:
        image = read_one(at, "--at") if at else None
        result = net.grid_stream(dims, lo, hi, steps, at=image, label=wanted[0] if wanted else None)
        cols = cols or steps
    else:
        with bar(n, "sampling") as advance:
            extra = {"labels": wanted} if wanted is not None else {}
            result = net.sample_stream(n, temperature=temperature, seed=seed, batch_size=batch_size, progress=advance, **extra)
    write_output(result, output, fmt, scale=scale, cols=cols)

run = entry(app, PROG)

if __name__ == "__main__":
    run()
