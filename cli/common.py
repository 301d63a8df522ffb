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
from typer.core import TyperCommand

from genkit.errors import GenkitError


# -- options every command shares, declared once ----------------------------------------------------
def model_argument(help: str = "A .keras file, run folder or zoo name."):
    """The MODEL argument (``help`` may say which models the command takes), followed by the
    names the zoo answers to (genkit.catalog: the registry and the shipped checkpoints)."""
    from genkit import catalog

    return typer.Argument(help=f"{help} Names: {', '.join(catalog.names())} (--list says what each is).",
                          metavar="MODEL", show_default=False)


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


Output = Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")]
Format = Annotated[Optional[str], format_option("png")]
#: -f for commands whose model writes images or sentences
AnyFormat = Annotated[Optional[str], typer.Option("--format", "-f", metavar="png|npz|txt|json", show_default=False, help=(
    "Images: png or npz. Sentences: txt (one a line) or json (one object a line: "
    '{"step": i, "text": ..., "logp": log p(text | z) in nats, summed over its tokens and <eos>}). '
    "[default: from -o's extension, else png or txt]"))]
MAX_SCALE = 64
Scale = Annotated[Optional[int], typer.Option("--scale", metavar="N", show_default=False, min=1, max=MAX_SCALE,
                                              help=f"PNG: enlarge each tile N times, 1 to {MAX_SCALE} [default: to at least 64 px].")]
#: --decode: how a decoder's distribution becomes output (each model checks the value it gets)
Decode = Annotated[Optional[str], typer.Option("--decode", metavar="greedy|mean|sample|beam", show_default=False, help=(
    "How the decoder's distribution becomes output. Sentence models: greedy, sample or beam [default: greedy]. "
    "A VAE's images: greedy (each pixel's most likely colour), mean (its expected colour, then the nearest palette "
    "colour; a grey decoder's ink probability) or sample (one draw per pixel, --seed) [default: mean]."))]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show details: notes, and a traceback for unexpected errors.")]


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"genkit {version('genkit')}")
        except PackageNotFoundError:
            print("genkit (not installed)")
        raise typer.Exit()


Version = Annotated[Optional[bool], typer.Option("--version", is_eager=True, callback=_show_version,
                                                 help="Show genkit's version and exit.")]


def list_option(capability: str | None = None):
    """``--list``: the zoo's families (those with ``capability``, a class name in
    genkit.models.capabilities) and the shipped checkpoints with their cards' headline figures."""

    def show(value: bool) -> None:
        if not value:
            return
        from genkit import catalog

        keep = None
        if capability is not None:
            from genkit.models import capabilities

            having = set(capabilities.having(getattr(capabilities, capability)))
            keep = having.__contains__
        print(catalog.listing(keep))
        raise typer.Exit()

    return typer.Option("--list", is_eager=True, callback=show,
                        help="List the models this command takes (families and shipped checkpoints) and exit.")


class GkCommand(TyperCommand):
    """Clean usage lines: arguments by their metavar (MODEL, [SOURCE]...), no type tags."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.param_type_name == "argument" and param.metavar:
                param.display_type_rich = lambda ctx: None  # the metavar says it: no "<str>"

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                continue
            name = param.metavar or param.name.upper()
            if " " in name or "[" in name:  # a metavar that spells its own form: [MODEL] A B
                pieces.append(name)
                continue
            if not param.required:
                name = f"[{name}]"
            pieces.append(name + ("..." if param.nargs != 1 else ""))
        return pieces


    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """As typer's, but a usage error (unknown option, bad value) is one line on stderr, exit 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        name = prog_name or self.name or "genkit"
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except Exception as e:  # click's exceptions, whichever package typer takes them from
            if type(e).__name__ == "Abort":
                say(name, "aborted")
                sys.exit(1)
            if not (hasattr(e, "format_message") and isinstance(getattr(e, "exit_code", None), int)):
                raise
            from genkit.errors import one_line

            say(name, f"{one_line(e.format_message())} (see {name} --help)")
            sys.exit(e.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


class GkTyper(typer.Typer):
    """typer.Typer whose commands are GkCommands."""

    def command(self, *args, **kwargs):
        kwargs.setdefault("cls", GkCommand)
        return super().command(*args, **kwargs)


def make_app() -> typer.Typer:
    """A typer app with genkit's settings; the command's docstring is its --help text (a paragraph
    after a line holding only ``\\b`` keeps its line breaks: examples stay one to a line)."""
    return GkTyper(
        add_completion=True,  # --install-completion / --show-completion, as typer provides them
        pretty_exceptions_enable=False,
        no_args_is_help=False,
        rich_markup_mode=None,  # plain click help: no rich import, so --help is fast
        context_settings={"help_option_names": ["-h", "--help"]},
    )


def say(prog: str, message: str) -> None:
    """One line on stderr, prefixed with the command's name."""
    sys.stderr.write(f"{prog}: {message}\n")
    sys.stderr.flush()


_NOTES: list[tuple[str, str]] = []


def note(prog: str, message: str) -> None:
    """A note on what a command did (the input adapter's, skipped files): held until the command
    succeeds, so that a failing command prints its one error line and nothing else."""
    _NOTES.append((prog, message))


def _flush_notes(show: bool) -> None:
    held = list(_NOTES)
    _NOTES.clear()
    if show:
        for prog, message in held:
            say(prog, message)


def guarded(prog: str) -> Callable:
    """Turn GenkitError into ``prog: message`` and exit code 2; Ctrl-C into exit code 130;
    any other exception into one line and exit code 1 (the traceback with ``-v``)."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            _NOTES.clear()
            try:
                out = fn(*args, **kwargs)
                _flush_notes(True)
                return out
            except typer.Exit as e:
                _flush_notes(e.exit_code == 0)
                raise
            except BaseException:
                _flush_notes(False)
                raise

        @functools.wraps(fn)
        def guard(*args, **kwargs):
            try:
                return run(*args, **kwargs)
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
                first = (str(e).strip().splitlines() or [""])[0]
                say(prog, f"internal error: {type(e).__name__}: {first} (run with -v for the traceback)")
                raise typer.Exit(1) from None

        return guard

    return wrap


def entry(app: typer.Typer, prog: str, *, quick_exit: bool = True) -> Callable[[], None]:
    """The console-script entry point for ``app``. ``quick_exit``: leave without the
    interpreter's teardown once TensorFlow is loaded (:func:`leave`)."""

    def main() -> None:
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `gk-... | head` ends quietly
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        if not {"-v", "--verbose"} & set(sys.argv[1:]):  # stderr belongs to the user: no native start-up noise
            from genkit.stderr import quiet_native

            quiet_native()
        try:
            app(prog_name=prog)
            code = 0
        except SystemExit as e:
            code = e.code
        leave(code, quick=quick_exit)

    return main


def leave(code, *, quick: bool = True) -> None:
    """End the process with exit status ``code``. The interpreter's own teardown takes one to
    three seconds of the user's wait after the work is done once TensorFlow is loaded (freeing
    its modules, graphs and thread pools; `make bench-startup` measures it), and about 30 ms
    with numpy alone (a tenth of gk-quantize's run; `make bench-quantize`). Every output is
    written by now (files atomically, by rename), so with ``quick`` the process flushes stdout
    and stderr and ends at once (os._exit). GENKIT_QUICK_EXIT=0 keeps the teardown."""
    if not isinstance(code, (int, type(None))) or not quick \
            or os.environ.get("GENKIT_QUICK_EXIT", "1").strip() == "0":
        sys.exit(code)
    code = code or 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # stdout closed or full: as Python's own exit reports it
            code = code or 120
    os._exit(code)


def read_data(sources: list[str] | None, dataset: str | None, split: str | None, *, family: str, prog: str | None = None):
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

        heard = (lambda message: note(prog, message)) if prog else None
        stream = read_sentences(sources or ["-"], note=heard) if text else read_stream(sources or ["-"])
        if split:
            stream = split_stream(stream, split)
    if len(stream) == 0:
        raise GenkitError(f"the input holds no {'sentences' if text else 'images'}" + (f" in split {split!r}" if split else ""))
    return stream


def adapted(net, stream, prog: str):
    """``stream`` brought onto an image model's input (genkit.adapt), saying once on stderr what
    was done; other models take it as it is."""
    if hasattr(net, "as_model_stream"):
        return net.as_model_stream(stream, note=lambda message: note(prog, message))
    return stream


def load_model(spec: str, capability: type, *, command: str, sampler: bool = False):
    """A model by path, run folder or zoo name that has ``capability`` (genkit.models.capabilities),
    else a one-line refusal naming the zoo's models that have it. ``sampler``: for drawing images,
    a pixel model's compiled sampler, written to the cache on first use (genkit.models.load_sampler)."""
    from genkit import models
    from genkit.models.capabilities import require

    return require(models.load_sampler(spec) if sampler else models.load(spec), capability, command=command)


def output_format(output: str | None, fmt: str | None, default: str = "png") -> str:
    """-f's value, else the one -o's extension says, else ``default``; png or npz."""
    from genkit.io import guess_format

    fmt = (fmt or guess_format(output, default)).lower()
    if fmt not in ("png", "npz"):
        raise GenkitError(f"--format must be {default} or {'npz' if default == 'png' else 'png'}, got {fmt!r}")
    return fmt


def check_request(count: int, height: int, width: int, scale: int | None, cols: int | None = None) -> None:
    """Refuse, before any work, a PNG sheet that genkit itself could not read back (over the
    readers' pixel limit, genkit.io.MAX_PIXELS)."""
    from genkit.io import MAX_PIXELS, auto_scale, sheet_layout

    rows, cols = sheet_layout(count, cols)
    s = scale or auto_scale(height, width)
    pixels = (rows * (height * s + 1) + 1) * (cols * (width * s + 1) + 1)
    if pixels > MAX_PIXELS:
        raise GenkitError(f"a sheet of {count:,} images of {width}x{height} at scale {s} would be {pixels:,} pixels, over the "
                          f"{MAX_PIXELS:,}-pixel limit: ask for fewer, a smaller --scale, or -f npz")


def terminal_plan(output: str | None, count: int, height: int, width: int, cols: int | None = None):
    """What an image command draws instead of writing binary to a terminal: with stdout a terminal
    and no -o FILE, the screenful of ``count`` tiles (genkit.preview.Plan: make only ``shown``);
    else None. Decided before any work."""
    if output not in (None, "-") or not sys.stdout.isatty():
        return None
    from genkit.preview import plan

    return plan(count, height, width, cols=cols)


def show_in_terminal(stream, layout, prog: str, *, made: int | None = None, asked: int | None = None) -> None:
    """Draw ``stream``'s images as ``layout`` says, then one note: how many were left out of what
    was asked, and how to save the whole."""
    from genkit.preview import Plan, show

    rgb = stream.rgb()
    shown = min(layout.shown, len(rgb))
    show(rgb, Plan(count=len(rgb), shown=shown, cols=min(layout.cols, shown), scale=layout.scale))
    made = made if made is not None else shown
    asked = asked if asked is not None else layout.count
    left = asked - made
    what = f"showing {made} of {asked} images ({left} left out)" if left > 0 else "drawn in the terminal"
    note(prog, f"{what}; -o FILE or a pipe (> out.png) saves {'them all' if left > 0 else 'it'}")


def write_output(result, output: str | None, fmt: str | None, *, scale=None, cols=None, terminal=None,
                 prog: str = "genkit", made: int | None = None, asked: int | None = None) -> None:
    """A command's result to -o FILE (atomically) or stdout: sentences one a line, images as a
    PNG contact sheet or an NPZ stream (-f). With ``terminal`` (a plan from terminal_plan), images
    are drawn in the terminal instead."""
    from genkit.io import write_stream
    from genkit.text import Sentences, lines_of, text_format, write_lines

    if terminal is not None and not isinstance(result, Sentences):
        show_in_terminal(result, terminal, prog, made=made, asked=asked)
        return
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
