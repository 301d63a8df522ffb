"""gk-complete: hide part of each image and let a pixel model draw the rest."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cli.common import Format, Output, Scale, Verbose, Version, adapted, check_request, entry, guarded, list_option, load_model, make_app, \
    model_argument, output_format, read_data, seed_option, temperature_option, terminal_plan, write_output

PROG = "gk-complete"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    model: Annotated[str, model_argument("A pixel model: .keras file, run folder or zoo name.")],
    sources: Annotated[Optional[List[str]], typer.Argument(help="Images: PNG/NPZ files, folders, globs or - (stdin).", metavar="SOURCE", show_default=False)] = None,
    keep: Annotated[float, typer.Option("--keep", metavar="FRACTION", help="Keep this fraction of each image, in raster order (0.5 hides the bottom half).")] = 0.5,
    mask: Annotated[Optional[str], typer.Option("--mask", metavar="FILE.png", help="Keep the pixels that are not black in this PNG (the model's size) instead of --keep.")] = None,
    keep_random: Annotated[Optional[float], typer.Option("--keep-random", metavar="P", help="Keep a random share P of the pixels (chosen by --seed, the same for every image) instead of --keep.", show_default=False)] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", metavar="S", help="Masked models: draw the hidden pixels in S parallel steps [default: the model's].", show_default=False)] = None,
    k: Annotated[int, typer.Option("-k", metavar="N", help="Completions per image (1 to 1,000; at most 100,000 completions in all).")] = 3,
    dataset: Annotated[Optional[str], typer.Option("--dataset", metavar="NAME", help="Complete a named data set instead (e.g. pokemon).")] = None,
    split: Annotated[Optional[str], typer.Option("--split", metavar="NAME", help="Only this split of the input: train, test, val, fit, all.")] = None,
    temperature: Annotated[float, temperature_option("Divide the logits by T; 0 is greedy.")] = 1.0,
    seed: Annotated[int, seed_option("Same seed, same completions.")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Images completed at once.")] = 64,
    fmt: Format = None,
    output: Output = None,
    scale: Scale = None,
    verbose: Verbose = False,
    version: Version = None,
    list_models: Annotated[Optional[bool], list_option("Completes")] = None,
) -> None:
    """Complete images the model has not seen: keep part, draw the rest.

    PNG output is the lecture's figure, one row per image: original | masked | K completions.
    NPZ output holds the completions with their mask (True = given). Given pixels are kept
    exactly; a mask that hides nothing returns the images as they are. Pixel models (pixelcnn,
    pixelrnn) draw hidden pixels in raster order from the pixels before them: with --mask or
    --keep-random a given pixel after a hidden one is kept but cannot inform it. The masked
    model draws every hidden pixel from every given one, in --steps parallel steps.

    Any image goes onto the model's size and palette first (as its training crops were made;
    nearest palette colour), said once on stderr. On a terminal, without -o, the rows that fit
    the screen are completed and drawn there.

    Examples:

    \b
      gk-complete pixelcnn --dataset pokemon --split test --keep 0.25 -k 3 > done.png
      gk-complete pixelrnn sprites/025MS.png --keep 0.25 -o quarter.png
      gk-complete masked --dataset pokemon --split test --keep-random 0.5 --steps 32 > scattered.png
    """
    from genkit.errors import GenkitError
    from genkit.io import read_stream
    from genkit.models.capabilities import Completes, Refines, random_keep, require
    from genkit.models.raster import completion_sheet
    from genkit.progress import bar

    fmt = output_format(output, fmt)
    if not 1 <= k <= 1000:
        raise GenkitError(f"-k must be 1 to 1,000, got {k}")
    if mask and keep_random is not None:
        raise GenkitError("give --mask or --keep-random, not both")
    if steps is not None and steps < 1:
        raise GenkitError(f"--steps must be at least 1, got {steps}")
    net = load_model(model, Completes, command=PROG, sampler=True)
    if steps is not None:
        require(net, Refines, command="--steps")
    stream = adapted(net, read_data(sources, dataset, split, family=net.family, prog=PROG), PROG)
    asked = len(stream)
    if asked * k > 100_000:
        raise GenkitError(f"{asked:,} images x {k} completions is over 100,000: complete fewer at a time")
    if fmt == "png":
        check_request(asked * (k + 2), net.height, net.width, scale, cols=k + 2)
    terminal = terminal_plan(output, asked * (k + 2), net.height, net.width, cols=k + 2)
    if terminal is not None:  # make only the rows the screen shows
        stream = stream.select(slice(0, max(1, terminal.shown // (k + 2))))
    mask_array = None
    if mask:
        m = read_stream([mask])
        if len(m) != 1:
            raise GenkitError("the mask must be one image", source=mask)
        mask_array = m.rgb()[0].max(axis=-1) > 0
        if mask_array.shape != (net.height, net.width):
            raise GenkitError(f"the mask is {mask_array.shape[1]}x{mask_array.shape[0]}, the model's images "
                              f"{net.width}x{net.height}", source=mask)
        if not mask_array.any():
            raise GenkitError("the mask must keep some pixels (it is all black)", source=mask)
    elif keep_random is not None:
        mask_array = random_keep(net.height, net.width, keep_random, seed)
    with bar(len(stream) * k, "completing") as advance:
        extra = {"steps": steps} if steps is not None else {}
        done = net.complete_stream(stream, keep=keep, mask=mask_array, k=k, temperature=temperature, seed=seed,
                                   batch_size=batch_size, progress=advance, **extra)
    if fmt == "png":
        sheet = completion_sheet(stream, done, k)
        write_output(sheet, output, "png", scale=scale, cols=k + 2, terminal=terminal, prog=PROG, made=len(stream), asked=asked)
    else:
        write_output(done, output, "npz", terminal=terminal, prog=PROG, made=len(stream), asked=asked)


run = entry(app, PROG)

if __name__ == "__main__":
    run()
