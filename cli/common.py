"""What every gk-* command shares: the typer app settings, the options, the error guard and the
entry point.

Commands import only this, typer and the library function they call; heavy modules (numpy,
Pillow, TensorFlow) are imported inside the command body so that ``--help`` stays fast.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from typing import Annotated, Callable, Optional

import typer

from genkit.errors import GenkitError


# -- options every command shares, declared once ----------------------------------------------------
def model_argument(help: str = "A .keras file, run folder or zoo name."):
    """The MODEL argument (``help`` may say which models the command takes)."""
    return typer.Argument(help=help, metavar="MODEL", show_default=False)


def seed_option(help: str):
    """``--seed INT`` (``help`` says what it seeds)."""
    return typer.Option("--seed", metavar="INT", help=help)


def temperature_option(help: str):
    """``--temperature/-t T`` (``help`` says what it divides)."""
    return typer.Option("--temperature", "-t", metavar="T", help=help)


def format_option(default: str = "png"):
    """``--format/-f``: png or npz, by default from -o's extension, else ``default``."""
    other = "npz" if default == "png" else "png"
    return typer.Option("--format", "-f", metavar=f"{default}|{other}", show_default=False,
                        help=f"Output format [default: from -o's extension, else {default}].")


Model = Annotated[str, model_argument()]
Output = Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")]
Format = Annotated[Optional[str], format_option("png")]
Scale = Annotated[Optional[int], typer.Option("--scale", metavar="N", show_default=False,
                                              help="PNG: enlarge each tile N times [default: to at least 64 px].")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show a traceback for unexpected errors.")]


def make_app() -> typer.Typer:
    """A typer app with genkit's settings; the command's docstring is its --help text."""
    return typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        no_args_is_help=False,
        rich_markup_mode=None,  # plain click help: no rich import, so --help is fast
        context_settings={"help_option_names": ["-h", "--help"]},
    )


def say(prog: str, message: str) -> None:
    """One line on stderr, prefixed with the command's name."""
    sys.stderr.write(f"{prog}: {message}\n")
    sys.stderr.flush()


def guarded(prog: str) -> Callable:
    """Turn GenkitError into ``prog: message`` and exit code 2; Ctrl-C into exit code 130;
    any other exception into one line and exit code 1 (the traceback with ``-v``)."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except typer.Exit:
                raise
            except GenkitError as e:
                say(prog, str(e))
                raise typer.Exit(2) from None
            except KeyboardInterrupt:
                say(prog, "interrupted")
                raise typer.Exit(130) from None
            except MemoryError:
                say(prog, "out of memory")
                raise typer.Exit(2) from None
            except Exception as e:  # a bug: keep it to one line unless asked
                if kwargs.get("verbose"):
                    traceback.print_exc()
                say(prog, f"internal error: {type(e).__name__}: {e} (run with -v for the traceback)")
                raise typer.Exit(1) from None

        return run

    return wrap


def entry(app: typer.Typer, prog: str) -> Callable[[], None]:
    """The console-script entry point for ``app``."""

    def main() -> None:
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `gk-... | head` ends quietly
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # CPU-only machines: no cuInit noise on stderr
        app(prog_name=prog)

    return main


def read_data(sources: list[str] | None, dataset: str | None, split: str | None, *, family: str):
    """The input of a model command for a model of ``family``: --dataset NAME, else
    files/folders, else stdin. A family that reads text (genkit.models.data_kind) gets text
    files, one sentence a line (genkit.text.Sentences); the others, images."""
    from genkit import datasets
    from genkit.io import read_stream
    from genkit.models import data_kind

    text = data_kind(family) == "text"
    if dataset and sources:
        raise GenkitError("give input files or --dataset, not both")
    if dataset and dataset in datasets.names() and datasets.is_text(dataset) != text:
        raise GenkitError(f"{dataset} is a data set of {'sentences' if datasets.is_text(dataset) else 'images'}, but this "
                          f"model learns from {'sentences' if text else 'images'}")
    if dataset:
        stream = datasets.load(dataset, split=split)
    else:
        from genkit.splits import split_stream
        from genkit.text import read_sentences

        stream = read_sentences(sources or ["-"]) if text else read_stream(sources or ["-"])
        if split:
            stream = split_stream(stream, split)
    if len(stream) == 0:
        raise GenkitError(f"the input holds no {'sentences' if text else 'images'}" + (f" in split {split!r}" if split else ""))
    return stream


def load_model(spec: str, capability: type, *, command: str):
    """A model by path, run folder or zoo name that has ``capability`` (genkit.models.capabilities),
    else a one-line refusal naming the zoo's models that have it."""
    from genkit import models
    from genkit.models.capabilities import require

    return require(models.load(spec), capability, command=command)


def output_format(output: str | None, fmt: str | None, default: str = "png") -> str:
    """-f's value, else the one -o's extension says, else ``default``; png or npz."""
    from genkit.io import guess_format

    fmt = (fmt or guess_format(output, default)).lower()
    if fmt not in ("png", "npz"):
        raise GenkitError(f"--format must be {default} or {'npz' if default == 'png' else 'png'}, got {fmt!r}")
    return fmt


def write_output(result, output: str | None, fmt: str | None, *, scale=None, cols=None) -> None:
    """A command's result to -o FILE (atomically) or stdout: sentences one a line, images as a
    PNG contact sheet or an NPZ stream (-f)."""
    from genkit.io import write_stream
    from genkit.text import Sentences, lines_of, text_format, write_lines

    if isinstance(result, Sentences):  # one line each: txt, or json with the step and log-probability
        write_lines(lines_of(result), output, text_format(output, fmt))
        return
    write_stream(result, output, output_format(output, fmt), scale=scale, cols=cols)


def parse_labels(text: str) -> list[int]:
    """``0-9``, ``3,5,7`` or a mix (``0-2,7``) -> a list of non-negative integers."""
    out: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                a, b = (int(v) for v in part.split("-", 1))
                if b < a:
                    raise ValueError
                out += range(a, b + 1)
            else:
                out.append(int(part))
    except ValueError:
        raise GenkitError(f"labels must look like 0-9 or 3,5,7, got {text!r}") from None
    if not out or min(out) < 0:
        raise GenkitError(f"labels must look like 0-9 or 3,5,7, got {text!r}")
    return out
