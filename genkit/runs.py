"""The run folder: its layout, and reading what a run left behind.

A run folder (``gk-train -o DIR``) holds:

    model.keras    the best model by validation loss
    last.keras     the latest epoch, with its optimizer state, for --resume
    state.json     the epoch last completed and the best so far (the commit point)
    metrics.json   per-epoch train/val loss in the model's units, sizes, config, training time
    config.json    the resolved run config
    logs/          TensorBoard logs
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import GenkitError

MODEL = "model.keras"
LAST = "last.keras"
STATE = "state.json"
METRICS = "metrics.json"
CONFIG = "config.json"
LOGS = "logs"


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

    def _json(self, name: str) -> dict | None:
        path = self.path / name
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise GenkitError(f"cannot read {name} ({e})", source=str(self.path)) from None

    def state(self) -> dict | None:
        """The committed state (None when no epoch was saved)."""
        return self._json(STATE)

    def metrics(self) -> dict:
        """metrics.json: per-epoch rows, sizes, config, training time."""
        out = self._json(METRICS)
        if out is None:
            raise GenkitError("no metrics.json: not a finished run folder", source=str(self.path))
        return out

    def config(self) -> dict | None:
        return self._json(CONFIG)
