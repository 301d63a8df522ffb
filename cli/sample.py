"""gk-sample: draw new images from a trained model."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cli.common import AnyFormat, Decode, Output, Scale, Verbose, Version, adapted, check_request, entry, guarded, list_option, load_model, \
    make_app, model_argument, output_format, seed_option, temperature_option, terminal_plan, write_output

PROG = "gk-sample"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    model: Annotated[str, model_argument("A .keras checkpoint, a run folder, or a name (a family's shipped checkpoint, or a shipped checkpoint's own name).")],
    n: Annotated[int, typer.Option("-n", "--count", metavar="N", help="How many images (1 to 100,000; a PNG sheet at most 2^25 pixels).")] = 16,
    temperature: Annotated[float, temperature_option("Pixel models: divide the logits by T; 0 is greedy (every image the same). VAEs: scale the prior's spread by T. Sentence models: draw each word at T.")] = 1.0,
    grid: Annotated[Optional[str], typer.Option("--grid", metavar="I,J", help="VAEs: sweep code dimensions I and J on a grid, the others fixed (the lecture's figure).", show_default=False)] = None,
    value_range: Annotated[str, typer.Option("--range", metavar="LO:HI", help="--grid: the values swept.")] = "-3:3",
    steps: Annotated[Optional[int], typer.Option("--steps", metavar="N", help="--grid: values per dimension (an N x N sheet; 2 to 1,000) [default: 10]. Masked models: parallel refinement steps [default: the model's].", show_default=False)] = None,
    at: Annotated[Optional[str], typer.Option("--at", metavar="IMAGE", help="--grid: fix the other dimensions at this image's code [default: at 0].", show_default=False)] = None,
    labels: Annotated[Optional[str], typer.Option("--labels", metavar="LIST", help="Conditional models (a CVAE, a GAN trained with --set classes=N): the labels to draw, e.g. 0-9 or 3,5 (cycled) [default: 0, 1, 2, ...].", show_default=False)] = None,
    decode: Decode = None,
    seed: Annotated[int, seed_option("Same seed, same images (or sentences).")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Images drawn at once.")] = 64,
    fmt: AnyFormat = None,
    output: Output = None,
    scale: Scale = None,
    cols: Annotated[Optional[int], typer.Option("--cols", metavar="N", help="PNG: tiles per row [default: square].", show_default=False)] = None,
    verbose: Verbose = False,
    version: Version = None,
    list_models: Annotated[Optional[bool], list_option("Samples")] = None,
) -> None:
    """Draw N images from MODEL and write a PNG contact sheet (or an NPZ stream).

    Pixel models draw one pixel at a time in raster order, each from the palette distribution
    given every pixel drawn so far (LSTM states and conv rows are carried, not recomputed).
    The masked model starts from an all-hidden image and reveals a random share of the pixels
    in each of --steps parallel steps, each drawn given every pixel revealed before.

    VAEs decode codes drawn from the prior. With --grid I,J they instead fix every code
    dimension but I and J (at 0, or at the code of --at IMAGE) and sweep those two over
    --range in --steps values: rows follow I, columns J. --decode says how each pixel's
    distribution becomes a colour (default mean: the expected colour, on the palette).

    Sentence models write one sentence a line (-f txt), or with -f json one object a line:
    {"step": i, "text": ..., "logp": ...}, logp being log p(text | z) in nats, the decoder's
    log-probability of the sentence's tokens and its <eos> given the code z it was decoded from.

    On a terminal, without -o, only the images that fit the screen are drawn, there.

    Examples:

    \b
      gk-sample pixelrnn -n 16 --temperature 0.9 > pokemon.png
      gk-sample vae --grid 3,7 --range -3:3 --steps 10 > grid.png
      gk-sample masked -n 16 --steps 32 --seed 0 > masked.png
      gk-sample sonnet-sentence-vae -n 5 -f json
    """
    from cli.common import parse_labels
    from genkit import models
    from genkit.errors import GenkitError
    from genkit.models.capabilities import Conditional, Refines, Samples, SweepsCode, require
    from genkit.models.raster import read_one
    from genkit.progress import bar
    from genkit.text import text_format

    if not 1 <= n <= 100_000:
        raise GenkitError(f"-n must be 1 to 100,000, got {n}")
    if batch_size < 1:
        raise GenkitError("--batch-size must be at least 1")
    wanted = parse_labels(labels) if labels else None
    dims = None
    refine = steps if grid is None else None  # --steps without --grid: a masked model's refinement steps
    steps = 10 if steps is None else steps
    if grid is not None:
        try:
            dims = tuple(int(v) for v in grid.split(","))
            lo, hi = (float(v) for v in value_range.split(":"))
        except ValueError:
            raise GenkitError(f"--grid takes I,J and --range LO:HI, got {grid!r} and {value_range!r}") from None
        if len(dims) != 2:
            raise GenkitError(f"--grid takes two dimensions I,J, got {grid!r}")
        if not 2 <= steps <= 1000:
            raise GenkitError(f"--steps must be 2 to 1,000, got {steps}")
    elif at is not None:
        raise GenkitError("--at goes with --grid")
    text = models.data_kind(models.family_of(models.resolve(model))) == "text"
    # the output format is decided before any work: a format of the other kind is refused here
    fmt = text_format(output, fmt) if text else output_format(output, fmt)
    net = load_model(model, Samples, command=PROG, sampler=True)
    terminal = None
    if not text:
        count = steps * steps if dims is not None else n
        if fmt == "png":
            check_request(count, net.height, net.width, scale)
        terminal = terminal_plan(output, count, net.height, net.width, cols=steps if dims is not None else cols)
        if terminal is not None and dims is None:
            n = terminal.shown  # make only what the screen shows
    labelled = wanted is not None and dims is None and getattr(net, "draws_labels", False)  # a conditional GAN
    if (dims is not None or wanted is not None) and not labelled:
        require(net, SweepsCode, command="--grid and --labels", verb="need")
    if wanted is not None and not labelled:
        require(net, Conditional, command="--labels")
    if decode is not None and not hasattr(net, "decodings"):
        raise GenkitError(f"--decode goes with a VAE's images, not a {net.family} model")
    decoded = {} if decode is None else {"decode": decode}  # else the model's default
    if refine is not None:
        require(net, Refines, command="--steps without --grid")
        if refine < 1:
            raise GenkitError(f"--steps must be at least 1, got {refine}")
    if dims is not None:
        image = adapted(net, read_one(at, "--at"), PROG) if at else None
        result = net.grid_stream(dims, lo, hi, steps, at=image, label=wanted[0] if wanted else None, seed=seed, **decoded)
        cols = cols or steps
    else:
        with bar(n, "sampling") as advance:
            extra = dict(decoded, **({"labels": wanted} if wanted is not None else {}))
            if refine is not None:
                extra["steps"] = refine
            result = net.sample_stream(n, temperature=temperature, seed=seed, batch_size=batch_size, progress=advance, **extra)
    write_output(result, output, fmt, scale=scale, cols=cols, terminal=terminal, prog=PROG,
                 asked=steps * steps if dims is not None else None if terminal is None else terminal.count)


run = entry(app, PROG)

if __name__ == "__main__":
    run()
