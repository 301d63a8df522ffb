"""Broken checkpoints (issue 13): a truncated .keras file, or one whose weights hold NaN or inf, is
refused in one line when it loads, and gk-sample never samples from it."""

import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import sample
from genkit import models
from genkit.errors import GenkitError
from genkit.io import Stream


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A tiny pixelrnn checkpoint."""
    stream = Stream(indices=np.zeros((4, 4, 3), np.uint8), palette=np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
    model = models.get("pixelrnn").for_stream(stream, embed=4, hidden=8, layers=1)
    model.build_for_data()
    return models.save(model, tmp_path_factory.mktemp("ck") / "good.keras")


def truncated(good, tmp_path):
    path = tmp_path / "truncated.keras"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return path


def poisoned(value):
    def make(good, tmp_path):
        model = models.load(str(good))
        weights = model.get_weights()
        weights[-1] = weights[-1].copy()
        weights[-1].flat[0] = value
        model.set_weights(weights)
        return models.save(model, tmp_path / f"poisoned-{value}.keras")

    return make


BROKEN = {"truncated": (truncated, "not a genkit model (.keras) file"),
          "nan": (poisoned(np.nan), "broken checkpoint: weight "),
          "inf": (poisoned(-np.inf), "broken checkpoint: weight ")}


def test_a_good_checkpoint_loads(good):
    assert models.load(str(good)).family == "pixelrnn"


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_checkpoint_is_refused_when_it_loads(good, tmp_path, kind):
    make, msg = BROKEN[kind]
    path = make(good, tmp_path)
    with pytest.raises(GenkitError) as e:
        models.load(str(path))
    text = str(e.value)
    assert text.startswith(f"{path}: {msg}") and "\n" not in text
    if kind != "truncated":
        last = models.load(str(good)).weights[-1].path
        assert text == f"{path}: broken checkpoint: weight {last} holds NaN or inf"


@pytest.mark.parametrize("kind", BROKEN)
def test_gk_sample_never_samples_a_broken_checkpoint(good, tmp_path, kind):
    path = BROKEN[kind][0](good, tmp_path)
    target = tmp_path / "out.png"
    result = CliRunner().invoke(sample.app, [str(path), "-n", "2", "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"gk-sample: {path}: ")
    assert result.stdout == "" and not target.exists()
    run = tmp_path / "run"  # a run folder's model.keras goes the same way
    run.mkdir()
    shutil.copy(path, run / "model.keras")
    again = CliRunner().invoke(sample.app, [str(run), "-n", "2", "-f", "npz"])
    assert again.exit_code == 2 and again.stdout_bytes == b""
