"""The run folder: its layout, its atomic per-epoch commit, and reading what a run left behind.

A run folder (``gk-train -o DIR``) holds:

    model.keras    the best model by validation loss
    last.keras     the latest epoch, with its optimizer state, for --resume
    state.json     the epoch last completed and the best so far (the commit point)
    metrics.json   per-epoch train/val loss in the model's units, sizes, config, training time
    config.json    the resolved run config (:class:`RunConfig`)
    logs/          TensorBoard logs
    .lock          while a run is live: its host, pid and start time (:meth:`RunFolder.lock`)

**One consistent epoch at every instant** (:meth:`RunFolder.commit`, :meth:`RunFolder.recover`):
the files of an epoch (``last.keras``, ``model.keras`` when it improved, ``metrics.json``,
``state.json``) are written into ``DIR/.pending/``, ``state.json`` last, and then moved into place
one by one. The ``state.json`` in ``.pending`` is the commit point: :meth:`RunFolder.recover`
finishes the moves of a commit that a kill cut short, or drops an epoch that never reached it.
``state.json`` also holds the state of Keras's seed generators (dropout; :func:`rng_state`),
which ``.keras`` files do not save.

**One run at a time** (:meth:`RunFolder.lock`): a run holds ``.lock``, made with O_EXCL, for as
long as it trains. Another run in the folder is refused while that process lives; a lock left
by a killed process on this host is stale and taken silently; one from another host is refused
with its host and age unless taken over (``take_over``, ``gk-train --take-over``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Callable, ClassVar, Iterator

from .errors import GenkitError

MODEL = "model.keras"
LAST = "last.keras"
STATE = "state.json"
METRICS = "metrics.json"
CONFIG = "config.json"
LOGS = "logs"
PENDING = ".pending"  # an epoch being committed
LOCK = ".lock"  # held by the live run
_IMPORTED = time.time()  # this process started before: a lock with its pid and an older time is not its own


@dataclasses.dataclass
class RunConfig:
    """How a run trains (config.json, and state.json's ``run``). An option left None is "not
    given": a resumed run keeps the value it had, a new run takes ``DEFAULTS``'s. ``model``: the
    family's settings (None: the resumed run's, or the family's defaults)."""

    #: the documented defaults of a new run
    DEFAULTS: ClassVar[dict] = {"epochs": 30, "batch_size": 32, "lr": 1e-3, "seed": 0, "flip": False, "strategy": "auto"}

    family: str
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int | None = None
    flip: bool | None = None
    strategy: str | None = None
    model: dict | None = None
    #: where this leg's data came from, so that --resume can read it again: {"dataset": NAME} or
    #: {"paths": [absolute paths]}; None: stdin (a resumed run must be fed again)
    source: dict | None = None
    #: the checkpoint whose weights the run started from (``gk-train --init``); None: fresh weights
    init: str | None = None
    #: the model settings named by the user (--set, --config), which --resume and --init apply
    #: even where the value is the family's default; None: those in ``model`` not at their default
    given: tuple | None = None

    def fresh(self) -> RunConfig:
        """A new run: every option not given takes its default."""
        return dataclasses.replace(self, **{k: v for k, v in self.DEFAULTS.items() if getattr(self, k) is None},
                                   model={} if self.model is None else self.model)

    def resumed(self, before: dict, model: dict, defaults: dict,
                training_only: tuple = ()) -> tuple[RunConfig, list[str]]:
        """The run to go on with: the options given here over ``before`` (the resumed run's
        options, as state.json holds them; the default where an older state lacks one), and what
        changed ("lr 0.003 -> 0.0005"). Model settings cannot change: a setting of the given
        ``model`` that is not at its default (the family's ``defaults``) and differs from the
        run's (``model``) is refused, except those in ``training_only`` (settings of the training
        loss that no weight depends on, such as a KL floor), which change from here on. Each change
        is a :class:`Change`: the log's words, with the option's ``key``."""
        model, changed = self.settings_over(model, defaults, training_only, "a resumed run",
                                            "resume without --set or --config, or start a new run in another -o DIR")
        out = dataclasses.replace(self, model=model, init=self.init or before.get("init"))
        for key, default in self.DEFAULTS.items():
            old = before.get(key, default)
            new = getattr(self, key)
            if new is None:
                setattr(out, key, old)
            elif new != old:
                changed.append(Change(key, old, new))
        return out, changed

    def settings_over(self, model: dict, defaults: dict, training_only: tuple, who: str,
                      fix: str) -> tuple[dict, list[Change]]:
        """``model`` (a run's or a checkpoint's settings) with the settings given here that may
        change (those in ``training_only``), and those changes; any other given setting that is
        not at its default (the family's ``defaults``) and differs from ``model``'s is refused in
        one line: ``who`` keeps its model settings, ``fix`` says what to do."""
        model, changed = dict(model), []
        if self.model is not None:
            # a key the run's settings lack (a setting newer than the run) had its default
            named = (lambda k, v: k in self.given) if self.given is not None else (lambda k, v: defaults[k] != v)
            asked = {k: v for k, v in self.model.items()
                     if k in defaults and model.get(k, defaults[k]) != v and named(k, v)}
            differ = [Change(k, model.get(k, defaults[k]), v) for k, v in asked.items() if k not in training_only]
            if differ:
                raise GenkitError(f"{who} keeps its model settings ({', '.join(differ)} asked): {fix}"
                                  + (f" ({who} may change {', '.join(training_only)})" if training_only else ""))
            for k, v in asked.items():
                changed.append(Change(k, model.get(k, defaults[k]), v))
                model[k] = v
        return model, changed


class Change(str):
    """One option a resumed run changes, as the log says it ("lr 0.003 -> 0.0005"), with its ``key``."""

    key: str

    def __new__(cls, key: str, old, new):
        change = super().__new__(cls, f"{key} {old} -> {new}")
        change.key = key
        return change


class RunFolder:
    """One run folder; reading needs no TensorFlow."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def last_path(self) -> Path:
        return self.path / LAST

    @property
    def logs_path(self) -> Path:
        return self.path / LOGS

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK

    # -- reading ---------------------------------------------------------------------------
    def _json(self, name: str) -> dict | None:
        path = self.path / name
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise GenkitError(f"cannot read {name} ({e})", source=str(self.path)) from None

    def state(self) -> dict | None:
        """The committed state (None when no epoch was saved): at least ``family`` and ``epoch``."""
        path = self.path / STATE
        if not path.is_file():
            return None
        try:
            state = json.loads(path.read_text())
            state["epoch"], state["family"]  # noqa: B018 - shape check
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise GenkitError(f"cannot read the run's state ({type(e).__name__}: {e})", source=str(path)) from None
        return state

    def source(self) -> dict | None:
        """Where the run's data came from (:attr:`RunConfig.source`), None when it came on stdin,
        or when no epoch was saved."""
        run = (self.state() or {}).get("run")
        source = run.get("source") if isinstance(run, dict) else None
        return source if isinstance(source, dict) else None

    def metrics(self) -> dict:
        """metrics.json: per-epoch rows, sizes, config, training time."""
        out = self._json(METRICS)
        if out is None:
            raise GenkitError("no metrics.json: not a finished run folder", source=str(self.path))
        return out

    def config(self) -> dict | None:
        return self._json(CONFIG)

    # -- writing ---------------------------------------------------------------------------
    def write_config(self, config: dict) -> None:
        """config.json (atomically), making the folder if need be."""
        from .io import write_file_atomic  # genkit.io imports numpy: not needed to read a run's config

        self.path.mkdir(parents=True, exist_ok=True)
        write_file_atomic(self.path / CONFIG, (json.dumps(config, indent=2) + "\n").encode())

    def write_metrics(self, metrics: dict, path: str | os.PathLike | None = None) -> None:
        """metrics.json (atomically) into the folder, or at ``path`` (a commit's pending copy)."""
        from .io import write_file_atomic

        write_file_atomic(Path(path) if path is not None else self.path / METRICS,
                          (json.dumps(metrics, indent=2) + "\n").encode())

    def commit(self, files: dict[str, Callable[[Path], object]], state: dict) -> None:
        """Write one epoch's files (each by its writer, given the path to write) and then its
        state, so that a kill at any instant leaves the folder at this epoch or at the one before.
        A write that fails (OSError: a full disk) drops the epoch's files and is raised again: the
        folder keeps the epoch before."""
        from .io import write_file_atomic

        pending = self.path / PENDING
        if pending.exists():
            self.recover()
        try:
            pending.mkdir(parents=True, exist_ok=True)
            for name, write in files.items():
                write(pending / name)
            write_file_atomic(pending / STATE, json.dumps(state, indent=1).encode())  # the commit point
        except OSError:
            shutil.rmtree(pending, ignore_errors=True)  # frees the space the epoch took
            raise
        self._roll_forward()

    def recover(self) -> bool:
        """Finish a commit that a kill cut short (True), or drop one that never reached its
        state.json (False, as when there is nothing pending)."""
        pending = self.path / PENDING
        if not pending.is_dir():
            return False
        if not (pending / STATE).is_file():
            shutil.rmtree(pending)
            return False
        self._roll_forward()
        return True

    # -- one run at a time ------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, *, take_over: bool = False, log: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the folder's lock (making the folder if need be) for the ``with`` block: refused
        in one line while another live run holds it (see :meth:`check_lock`); a stale lock is
        replaced silently, one taken over with a note to ``log``. On leaving, the lock is
        removed (if still this run's), and so is a folder it made and nothing else filled."""
        made = not self.path.exists()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise GenkitError(f"cannot make the run folder ({e.strerror})", source=str(self.path)) from None
        mine = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()})
        try:
            for _ in range(3):  # another run may take a stale lock between our look and our try
                held = self.check_lock(take_over=take_over)
                if held is not None:
                    if log is not None and take_over:
                        log(f"taking over the lock of {_holder(held)}")
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.lock_path)
                try:
                    fd = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    continue
                with os.fdopen(fd, "w") as f:
                    f.write(mine)
                break
            else:
                raise GenkitError("another run is taking this folder at the same time", source=str(self.path))
        except BaseException:
            if made:
                with contextlib.suppress(OSError):
                    self.path.rmdir()
            raise
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                if self.lock_path.read_text() == mine:
                    self.lock_path.unlink()
            if made:
                with contextlib.suppress(OSError):
                    self.path.rmdir()  # only when empty: nothing was saved

    def check_lock(self, *, take_over: bool = False) -> dict | None:
        """None when no lock is held; the holder (``host``, ``pid``, ``started``) of a lock that may
        be replaced: stale (its process, on this host, is gone), or from another host (or
        unreadable) with ``take_over``. Refuses in one line a lock held by a live process on this
        host, whatever ``take_over`` says, or by one on another host (its host and age named)."""
        try:
            text = self.lock_path.read_text()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise GenkitError(f"cannot read its lock ({e.strerror})", source=str(self.path)) from None
        try:
            held = json.loads(text)
            host, pid, started = str(held["host"]), int(held["pid"]), float(held["started"])
        except (ValueError, KeyError, TypeError):
            held, host, pid, started = {}, None, 0, 0.0
        here = host == socket.gethostname()
        if here and _alive(pid, started):
            raise GenkitError(f"a run is live in it ({_holder(held)}): wait for it, or stop it first",
                              source=str(self.path))
        if here or take_over:
            return held
        if host is None:
            raise GenkitError(f"holds a lock ({LOCK}) that cannot be read: if no run is live in it, take it over "
                              "with --take-over", source=str(self.path))
        raise GenkitError(f"locked by a run on another host ({_holder(held)}): if that run is gone, take the folder "
                          "over with --take-over", source=str(self.path))

    def _roll_forward(self) -> None:
        pending = self.path / PENDING
        for path in sorted(pending.iterdir(), key=lambda p: p.name == STATE):  # state.json last
            if path.name.startswith("."):  # a writer's temporary file
                path.unlink()
            else:
                os.replace(path, self.path / path.name)
        pending.rmdir()


def _alive(pid: int, started: float) -> bool:
    """Whether the process that took a lock at ``started`` runs on this host as ``pid``. This
    process's own pid counts only for a lock taken since this module was imported: an older one
    was left by an earlier process with the same pid (as in a restarted container)."""
    if pid == os.getpid():
        return started >= _IMPORTED
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _holder(held: dict) -> str:
    """'host h, pid 12, locked 3 h ago'."""
    age = time.time() - float(held.get("started", time.time()))
    ago = (f"{age:.0f} s" if age < 120 else f"{age / 60:.0f} min" if age < 7200 else
           f"{age / 3600:.0f} h" if age < 172800 else f"{age / 86400:.0f} days")
    return f"host {held.get('host')}, pid {held.get('pid')}, locked {ago} ago"


# -- the random state a .keras file leaves out (part of state.json) -----------------------------
def rng_state(model) -> list:
    """The state of the model's seed generators (dropout); .keras files do not hold it."""
    import numpy as np

    return [np.asarray(v).tolist() for v in _seed_variables(model)]


def set_rng_state(model, values: list | None) -> None:
    """Put back what :func:`rng_state` returned (nothing when ``values`` does not fit the model)."""
    variables = _seed_variables(model)
    if values is None or len(values) != len(variables):
        return
    for variable, value in zip(variables, values):
        variable.assign(value)


def _seed_variables(model) -> list:
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]
