"""gk-interp: decode the points on the line between two codes."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cli.common import entry, guarded, make_app, say, write_output

PROG = "gk-interp"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    args: Annotated[Optional[List[str]], typer.Argument(help="[MODEL] then two images (or one file holding two), or two sentences.", metavar="[MODEL] A B", show_default=False)] = None,
    model_opt: Annotated[Optional[str], typer.Option("--model", "-m", metavar="MODEL", help="The model, if not given as the first argument.", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", "-s", metavar="N", help="Points on the line, both ends included.")] = 8,
    style: Annotated[Optional[str], typer.Option("--style", metavar="IMAGES", help="Conditional VAEs: draw the style of each image in this file with each of --labels instead (one row per image).", show_default=False)] = None,
    labels: Annotated[str, typer.Option("--labels", metavar="LIST", help="--style: the labels to draw, e.g. 0-9 or 1,7.")] = "0-9",
    label: Annotated[Optional[int], typer.Option("--label", metavar="N", help="--style: the style image's own label [default: the one its NPZ carries].", show_default=False)] = None,
    seed_a: Annotated[Optional[int], typer.Option("--seed-a", metavar="INT", help="GANs: the noise vector at one end of the walk.", show_default=False)] = None,
    seed_b: Annotated[Optional[int], typer.Option("--seed-b", metavar="INT", help="GANs: the noise vector at the other end.", show_default=False)] = None,
    decode: Annotated[str, typer.Option("--decode", metavar="greedy|sample|beam", help="Sentence models: how each point is decoded.")] = "greedy",
    temperature: Annotated[float, typer.Option("--temperature", "-t", metavar="T", help="Sentence models with --decode sample: divide the logits by T.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", metavar="INT", help="Sentence models with --decode sample: same seed, same sentences.")] = 0,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", metavar="png|npz", help="Output format [default: from -o's extension, else png].", show_default=False)] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")] = None,
    scale: Annotated[Optional[int], typer.Option("--scale", metavar="N", help="PNG: enlarge each tile N times [default: to at least 64 px].", show_default=False)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show a traceback for unexpected errors.")] = False,
) -> None:
    """Encode A and B, decode N evenly spaced points on the line between their codes, and
    write the strip (first and last frames: the reconstructions of A and B).

    A and B are two image files, or one NPZ/PNG sheet holding two images. Images go on the
    model's palette and size first (RGB is mapped to the nearest colour).

    With --style IMAGES (a conditional VAE), each image is encoded with its label and its code
    decoded with each of --labels: the same handwriting, drawn as other digits, a row per image.

    Examples: gk-interp vae a.png b.png --steps 8 > strip.png;
    gk-interp cvae --style digit.png --label 3 --labels 0-9 > styles.png
    """
    from cli.common import load_model, parse_labels, read_one
    from genkit.errors import GenkitError
    from genkit.io import read_stream

    args = list(args or [])
    spec = model_opt
    if spec is None and args and _is_model(args[0]):
        spec = args.pop(0)
    if steps < 2:
        raise GenkitError("--steps must be at least 2")
    if spec is None and len(args) == 2 and not any(_is_file(a) for a in args) and style is None:
        spec = _default_text_model(args)  # two sentences, no model: the shipped poem models
    if spec is None:
        raise GenkitError("give the model first (a .keras file, run folder or zoo name) or with --model")
    net = load_model(spec)
    task = getattr(net, "task", None)
    if task == "text":
        if len(args) != 2:
            raise GenkitError(f"give two sentences, got {len(args)}")
        for line in net.interpolate_text(args[0], args[1], steps, decode=decode, temperature=temperature, seed=seed,
                                         warn=lambda msg: say(PROG, msg)):
            print(line)
        return
    if task == "generator":
        if args or seed_a is None or seed_b is None:
            raise GenkitError("a GAN walks between two noise vectors: give --seed-a and --seed-b, no images")
        write_output(net.walk_stream(seed_a, seed_b, steps), output, fmt, scale=scale, cols=steps)
        return
    if seed_a is not None or seed_b is not None:
        raise GenkitError("--seed-a/--seed-b go with a GAN")
    if task != "latent":
        raise GenkitError(f"{PROG} needs a model with a code (vae, ae, cvae, a GAN or a sentence VAE), "
                          f"but this is a {net.family} model", source=spec)
    if style is not None:
        if args:
            raise GenkitError("--style takes no other images")
        wanted = parse_labels(labels)
        stream = net.style_stream(read_stream([style]), wanted, label)
        write_output(stream, output, fmt, scale=scale, cols=len(wanted))
        return
    if len(args) == 1:
        pair = read_stream(args)
        if len(pair) != 2:
            raise GenkitError(f"one input file must hold exactly two images, it holds {len(pair)}", source=args[0])
        a, b = pair.select(slice(0, 1)), pair.select(slice(1, 2))
    elif len(args) == 2:
        a, b = (read_one(path, "an input") for path in args)
    else:
        raise GenkitError(f"give two images (or one file holding two), got {len(args)} inputs")
    strip = net.interpolate_stream(a, b, steps)
    write_output(strip, output, fmt, scale=scale, cols=steps)


def _is_file(arg: str) -> bool:
    from pathlib import Path

    return arg == "-" or Path(arg).exists()


def _default_text_model(sentences: list[str]) -> str:
    """The shipped Tang-poem model for Chinese input, the sonnet model otherwise."""
    chinese = any("\u4e00" <= ch <= "\u9fff" for text in sentences for ch in text)
    return "tang-sentence-vae" if chinese else "sonnet-sentence-vae"


def _is_model(spec: str) -> bool:
    from genkit import models
    from genkit.errors import GenkitError

    try:
        models.family_of(models.resolve(spec))
    except GenkitError:
        return False
    return True


run = entry(app, PROG)

if __name__ == "__main__":
    run()
