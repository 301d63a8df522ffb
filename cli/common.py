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
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        app(prog_name=prog)

    return main


class progress_bar:
    """A rich progress bar on stderr (drawn only when stderr is a terminal); call it to advance."""

    def __init__(self, total: int, description: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task = self._progress.add_task(description, total=total)

    def __enter__(self):
        self._progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self._progress.__exit__(*exc)

    def __call__(self, *_args) -> None:
        self._progress.advance(self._task)
