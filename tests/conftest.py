import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# compiled samplers (genkit.models.compiled) only where a test asks for them: the others build the
# Keras model every time and leave nothing in the user's cache
os.environ["GENKIT_COMPILED"] = "0"

DATA = Path(os.environ.get("GENKIT_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "pokemon" / "sprites").is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA


@pytest.fixture
def sprites(data_dir) -> list[Path]:
    """A handful of real sprites (palette and RGBA PNGs)."""
    return sorted((data_dir / "pokemon" / "sprites").glob("00*.png"))[:6]


@pytest.fixture
def rng():
    return np.random.default_rng(0)
