"""Where the data sets live (a leaf module: the package and every loader import it)."""

from __future__ import annotations

import os
from pathlib import Path

#: Where downloads go when no folder is given.
CACHE_DIR = Path.home() / ".genkit" / "data"


def data_root() -> Path:
    """The folder holding every data set: ``$GENKIT_DATA`` if set, else ``<repo>/../shared/data``
    if that folder exists, else ``~/.genkit/data``."""
    env = os.environ.get("GENKIT_DATA")
    if env:
        return Path(env).expanduser()
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return shared if shared.is_dir() else CACHE_DIR
