"""What every gk-* command shares: the typer app settings, the error guard and the entry point.

Commands import only this, typer and the library function they call; heavy modules (numpy,
Pillow, TensorFlow) are imported inside the command body so that ``--help`` stays fast.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from typing import Callable

import typer

from genkit.errors import GenkitError

VERBOSE_HELP = "Show a traceback for unexpected errors."


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


def read_data(sources: list[str] | None, dataset: str | None, split: str | None, *, text: bool = False):
    """The input stream of a model command: --dataset NAME, else files/folders, else stdin.
    With ``text`` (a sentence model), text files, one sentence a line (genkit.text.Sentences)."""
    from genkit import datasets
    from genkit.errors import GenkitError
    from genkit.io import read_stream

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


def load_model(spec: str, *, task: str | None = None, command: str = ""):
    """A model by path, run folder or zoo name; with ``task``, refuse models of another kind."""
    from genkit import models
    from genkit.errors import GenkitError

    model = models.load(spec)
    if task and getattr(model, "task", None) != task:
        raise GenkitError(f"{command} needs a {task} model, but this is a {model.family} model", source=spec)
    return model


def write_output(stream, output: str | None, fmt: str | None, *, scale=None, cols=None) -> None:
    from genkit.errors import GenkitError
    from genkit.io import guess_format, write_stream

    fmt = (fmt or guess_format(output, "png")).lower()
    if fmt not in ("png", "npz"):
        raise GenkitError(f"--format must be png or npz, got {fmt!r}")
    write_stream(stream, output, fmt, scale=scale, cols=cols)


def parse_labels(text: str) -> list[int]:
    """``0-9``, ``3,5,7`` or a mix (``0-2,7``) -> a list of non-negative integers."""
    from genkit.errors import GenkitError

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


def read_one(path: str, option: str, count: int = 1):
    """The image(s) of one file (or - for stdin) given to an option, checked for their number."""
    from genkit.errors import GenkitError
    from genkit.io import read_stream

    stream = read_stream([path])
    if len(stream) != count:
        raise GenkitError(f"{option} takes {'one image' if count == 1 else f'{count} images'}, got {len(stream)}", source=path)
    return stream
