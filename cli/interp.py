"""gk-interp: decode the points on the line between two codes."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cli.common import AnyFormat, Decode, Output, Scale, Verbose, Version, adapted, check_request, entry, guarded, \
    list_option, make_app, output_format, seed_option, temperature_option, terminal_plan, write_output
from cli.common import note as held_note

PROG = "gk-interp"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    args: Annotated[Optional[List[str]], typer.Argument(help="[MODEL] then two images (or one file holding two), or two sentences.", metavar="[MODEL] A B", show_default=False)] = None,
    model_opt: Annotated[Optional[str], typer.Option("--model", "-m", metavar="MODEL", help="The model, if not given as the first argument.", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", "-s", metavar="N", help="Points on the line, both ends included (2 to 1,000).")] = 8,
    style: Annotated[Optional[str], typer.Option("--style", metavar="IMAGES", help="Conditional VAEs: draw the style of each image in this file with each of --labels instead (one row per image).", show_default=False)] = None,
    labels: Annotated[str, typer.Option("--labels", metavar="LIST", help="--style: the labels to draw, e.g. 0-9 or 1,7.")] = "0-9",
    label: Annotated[Optional[int], typer.Option("--label", metavar="N", help="--style: the style image's own label [default: the one its NPZ carries].", show_default=False)] = None,
    seed_a: Annotated[Optional[int], typer.Option("--seed-a", metavar="INT", help="GANs: the noise vector at one end of the walk.", show_default=False)] = None,
    seed_b: Annotated[Optional[int], typer.Option("--seed-b", metavar="INT", help="GANs: the noise vector at the other end.", show_default=False)] = None,
    decode: Decode = None,
    temperature: Annotated[float, temperature_option("Sentence models with --decode sample: divide the logits by T.")] = 1.0,
    seed: Annotated[int, seed_option("--decode sample: same seed, same sentences or images.")] = 0,
    fmt: AnyFormat = None,
    output: Output = None,
    scale: Scale = None,
    verbose: Verbose = False,
    version: Version = None,
    list_models: Annotated[Optional[bool], list_option("Interpolates")] = None,
) -> None:
    """Encode A and B, decode N evenly spaced points on the line between their codes, and
    write the strip (first and last frames: the reconstructions of A and B).

    A and B are two image files, or one NPZ/PNG sheet holding two images. Any image goes onto
    the model's size and palette first (as its training crops were made; nearest palette
    colour; grey digits as light ink on dark), said once on stderr. On a terminal, without -o,
    the strip is drawn there.

    With --style IMAGES (a conditional VAE), each image is encoded with its label and its code
    decoded with each of --labels: the same handwriting, drawn as other digits, a row per image.

    Sentence models write one sentence a line (-f txt), or with -f json one object a line:
    {"step": i, "text": ..., "logp": ...}, logp being log p(text | z) in nats, the decoder's
    log-probability of the sentence's tokens and its <eos> given the code z it was decoded from.
    The first and last lines are the decodings of A and B. English comes out as ordinary text
    (clitics joined, no space before punctuation, capitals); Chinese in simplified script when
    A (or else B) is typed in it, in traditional otherwise.

    Examples:

    \b
      gk-interp vae a.png b.png --steps 8 > strip.png
      gk-interp cvae --style digit.png --label 3 --labels 0-9 > styles.png
      gk-interp "shall i compare thee to a summer's day?" "thou art more lovely" -f json
      gk-interp 白日依山尽 黄河入海流 --steps 8
    """
    from pathlib import Path

    from cli.common import load_model, parse_labels
    from genkit import models
    from genkit.errors import GenkitError
    from genkit.io import read_stream
    from genkit.models.capabilities import Conditional, Interpolates
    from genkit.text import IMAGE_EXTENSIONS, is_chinese, text_format

    args = list(args or [])
    spec = model_opt
    if spec is None and args and _is_model(args[0]):
        spec = args.pop(0)
    if not 2 <= steps <= 1000:
        raise GenkitError(f"--steps must be 2 to 1,000, got {steps}")
    if spec is None and len(args) == 2 and not any(_is_file(a) for a in args) and style is None:
        # two sentences, no model: the shipped Tang-poem model for Chinese, the sonnet model otherwise
        for arg in args:
            if not any(ch.isspace() for ch in arg) and Path(arg).suffix.lower() in IMAGE_EXTENSIONS:
                raise GenkitError("no such file", source=arg)  # an image's name, not a sentence
        spec = "tang-sentence-vae" if any(is_chinese(a) for a in args) else "sonnet-sentence-vae"
    if spec is None:
        _no_model(args, style)
    text = style is None and models.data_kind(models.family_of(models.resolve(spec))) == "text"
    # the output format is decided before any work: a format of the other kind is refused here
    fmt = text_format(output, fmt) if text else output_format(output, fmt)
    note = lambda message: held_note(PROG, message)  # noqa: E731
    if style is not None:
        net = load_model(spec, Conditional, command=f"{PROG} --style")
        if args:
            raise GenkitError("--style takes no other images")
        wanted = parse_labels(labels)
        images = adapted(net, read_stream([style]), PROG)
        terminal = _image_output(net, len(images) * len(wanted), len(wanted), output, fmt, scale)
        stream = net.style_stream(images, wanted, label)
        write_output(stream, output, fmt, scale=scale, cols=len(wanted), terminal=terminal, prog=PROG)
        return
    net = load_model(spec, Interpolates, command=PROG)
    terminal = None if text else _image_output(net, steps, steps, output, fmt, scale)
    a, b = net.interpolation_ends(args, seed_a=seed_a, seed_b=seed_b, note=note)
    decoded = {} if decode is None else {"decode": decode}  # else the model's default
    result = net.interpolate(a, b, steps, temperature=temperature, seed=seed, warn=note, **decoded)
    write_output(result, output, fmt, scale=scale, cols=steps, terminal=terminal, prog=PROG)


def _image_output(net, count: int, cols: int, output, fmt: str, scale):
    """Checks an image result's size before any work; the terminal plan when it goes there."""
    if fmt == "png":
        check_request(count, net.height, net.width, scale)
    return terminal_plan(output, count, net.height, net.width, cols=cols)


def _is_file(arg: str) -> bool:
    from pathlib import Path

    return arg == "-" or (bool(arg.strip()) and Path(arg).exists())


def _no_model(args: list[str], style: str | None) -> None:
    """Refuse arguments without a model, saying what was typed: a first argument meant as a model
    (before images, or before two sentences) that is none, or a number of sentences other than two."""
    from genkit import models
    from genkit.errors import GenkitError
    from genkit.text import is_chinese

    first = args[0] if args else ""
    if first and not _is_file(first) and not any(ch.isspace() for ch in first) and not is_chinese(first) and \
            (len(args) == 3 or any(_is_file(a) for a in args[1:])):
        models.family_of(models.resolve(first))  # raises: no such model file, or unknown model (the nearest, all names)
    if args and style is None and not any(_is_file(a) for a in args):
        raise GenkitError(f"give two sentences (got {_count(len(args))}), or a model and two images")
    raise GenkitError("give the model first (a .keras file, run folder or zoo name) or with --model")


def _count(n: int) -> str:
    return {1: "one", 3: "three"}.get(n, str(n))


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
