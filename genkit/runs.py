"""The run folder: its layout, its atomic per-epoch commit, and reading what a run left behind.

A run folder (``gk-train -o DIR``) holds:

    model.keras    the best model by validation loss
    last.keras     the latest epoch, with its optimizer state, for --resume
    state.json     the epoch last completed and the best so far (the commit point)
    metrics.json   per-epoch train/val loss in the model's units, sizes, config, training time
    config.json    the resolved run config
    logs/          TensorBoard logs

**One consistent epoch at every instant** (:meth:`RunFolder.commit`, :meth:`RunFolder.recover`):
the files of an epoch (``last.keras``, ``model.keras`` when it improved, ``metrics.json``,
``state.json``) are written into ``DIR/.pending/``, ``state.json`` last, and then moved into place
one by one. The ``state.json`` in ``.pending`` is the commit point: :meth:`RunFolder.recover`
finishes the moves of a commit that a kill cut short, or drops an epoch that never reached it.
``state.json`` also holds the state of Keras's seed generators (dropout; :func:`rng_state`),
which ``.keras`` files do not save.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

from .errors import GenkitError
from .io import write_file_atomic

MODEL = "model.keras"
LAST = "last.keras"
STATE = "state.json"
METRICS = "metrics.json"
CONFIG = "config.json"
LOGS = "logs"
PENDING = ".pending"  # an epoch being committed


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
        self.path.mkdir(parents=True, exist_ok=True)
        write_file_atomic(self.path / CONFIG, (json.dumps(config, indent=2) + "\n").encode())

    def write_metrics(self, metrics: dict, path: str | os.PathLike | None = None) -> None:
        """metrics.json (atomically) into the folder, or at ``path`` (a commit's pending copy)."""
        write_file_atomic(Path(path) if path is not None else self.path / METRICS,
                          (json.dumps(metrics, indent=2) + "\n").encode())

    def commit(self, files: dict[str, Callable[[Path], object]], state: dict) -> None:
        """Write one epoch's files (each by its writer, given the path to write) and then its
        state, so that a kill at any instant leaves the folder at this epoch or at the one before."""
        pending = self.path / PENDING
        if pending.exists():
            self.recover()
        pending.mkdir(parents=True, exist_ok=True)
        for name, write in files.items():
            write(pending / name)
        write_file_atomic(pending / STATE, json.dumps(state, indent=1).encode())  # the commit point
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

    def _roll_forward(self) -> None:
        pending = self.path / PENDING
        for path in sorted(pending.iterdir(), key=lambda p: p.name == STATE):  # state.json last
            if path.name.startswith("."):  # a writer's temporary file
                path.unlink()
            else:
                os.replace(path, self.path / path.name)
        pending.rmdir()


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
