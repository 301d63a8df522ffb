"""Compiled samplers (genkit.models.compiled): a pixel model's raster loop kept as a SavedModel
draws the same images as the Keras model, is keyed by the checkpoint, and falls back when missing
or damaged; gk-sample writes it on a first run and uses it on the next."""

import os
import time
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import genkit.models as gm  # noqa: E402
from genkit import io as gio  # noqa: E402
from genkit.models import compiled  # noqa: E402
from genkit.models.pixelcnn.model import PixelCNN  # noqa: E402
from genkit.models.pixelrnn.model import PixelRNN  # noqa: E402

H, W, K = 5, 4, 6
PALETTE = ((np.arange(3 * K).reshape(K, 3) * 13) % 256).astype(np.uint8)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GENKIT_COMPILED", "1")
    return tmp_path / "cache"


def checkpoint(tmp_path, family, seed=1):
    keras.utils.set_random_seed(seed)
    if family == "pixelcnn":
        model = PixelCNN(H, W, PALETTE, embed=4, channels=8, layers=2, kernel=3, head=8)
    else:
        model = PixelRNN(H, W, PALETTE, embed=4, hidden=8, layers=1)
    model.build_for_data()
    return gm.save(model, tmp_path / f"{family}-{seed}.keras", optimizer=False)


@pytest.mark.parametrize("family", ["pixelcnn", "pixelrnn"])
def test_the_compiled_sampler_draws_what_the_keras_model_draws(tmp_path, cache, family):
    path = checkpoint(tmp_path, family)
    model = gm.load(str(path))
    assert compiled.load(path, family) is None  # nothing cached yet
    folder = compiled.save(model)
    assert folder is not None and folder.parent == cache / "samplers"
    fast = compiled.load(path, family)
    assert isinstance(fast, compiled.CompiledPixelModel)
    assert (fast.family, fast.height, fast.width) == (family, H, W) and np.array_equal(fast.palette, PALETTE)
    for temperature in (1.0, 0.7, 0.0):
        want = model.sample_stream(7, seed=3, temperature=temperature, batch_size=4)
        got = fast.sample_stream(7, seed=3, temperature=temperature, batch_size=4)
        assert np.array_equal(got.indices, want.indices), temperature
    known = gio.Stream(indices=np.random.default_rng(0).integers(0, K, (3, H, W)).astype(np.uint8), palette=PALETTE)
    want = model.complete_stream(known, keep=0.5, k=2, seed=5)
    got = fast.complete_stream(known, keep=0.5, k=2, seed=5)
    assert np.array_equal(got.indices, want.indices) and np.array_equal(got.mask, want.mask)
    assert np.array_equal(got.indices[got.mask], np.repeat(known.indices, 2, axis=0)[got.mask])
    assert gm.load_sampler(str(path)).__class__ is compiled.CompiledPixelModel


def test_the_key_follows_the_checkpoint_and_damage_falls_back(tmp_path, cache, monkeypatch):
    a, b = checkpoint(tmp_path, "pixelrnn", seed=1), checkpoint(tmp_path, "pixelrnn", seed=2)
    assert compiled.key(a, "pixelrnn") != compiled.key(b, "pixelrnn")
    assert compiled.key(a, "pixelrnn") == compiled.key(a, "pixelrnn")
    folder = compiled.save(gm.load(str(a)))
    assert compiled.load(b, "pixelrnn") is None  # another checkpoint: not served a's loop
    (folder / "saved_model.pb").write_bytes(b"damaged")
    assert compiled.load(a, "pixelrnn") is None and not folder.exists()  # removed
    assert isinstance(gm.load_sampler(str(a)), compiled.CompiledPixelModel)  # written again
    monkeypatch.setattr(compiled, "save", lambda model: None)  # a cache that cannot be written
    assert isinstance(gm.load_sampler(str(b)), PixelRNN)  # the Keras model serves


def test_the_cache_keeps_the_most_recently_used(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(compiled, "MAX_SAMPLERS", 2)
    paths = [checkpoint(tmp_path, "pixelrnn", seed=s) for s in (1, 2, 3)]
    folders = [compiled.save(gm.load(str(p))) for p in paths[:2]]
    os.utime(folders[1] / "genkit.json", (time.time() - 100, time.time() - 100))
    assert compiled.load(paths[1], "pixelrnn") is not None  # used now: the newest
    os.utime(folders[0] / "genkit.json", (time.time() - 50, time.time() - 50))
    third = compiled.save(gm.load(str(paths[2])))
    assert sorted(p.name for p in (cache / "samplers").iterdir()) == sorted([folders[1].name, third.name])


def test_a_failed_save_leaves_nothing_behind(tmp_path, cache, monkeypatch):
    path = checkpoint(tmp_path, "pixelrnn")
    model = gm.load(str(path))

    def full(module, folder, *args, **kwargs):  # writes part of the folder, then the disk is full
        Path(folder).mkdir(parents=True)
        (Path(folder) / "saved_model.pb").write_bytes(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(tf.saved_model, "save", full)
    assert compiled.save(model) is None
    assert list((cache / "samplers").iterdir()) == []  # no half-written folder
    assert isinstance(gm.load_sampler(str(path)), PixelRNN)  # the Keras model serves


def test_turned_off_and_other_families(tmp_path, cache, monkeypatch):
    path = checkpoint(tmp_path, "pixelrnn")
    compiled.save(gm.load(str(path)))
    monkeypatch.setenv("GENKIT_COMPILED", "0")
    assert compiled.load(path, "pixelrnn") is None
    assert compiled.load(path, "vae") is None


def test_gk_sample_keeps_the_sampler_for_the_next_run(tmp_path, cache, monkeypatch):
    from typer.testing import CliRunner

    from cli import complete, sample

    runner = CliRunner()
    path = checkpoint(tmp_path, "pixelcnn")
    first = runner.invoke(sample.app, [str(path), "-n", "3", "--seed", "4", "-f", "npz"])
    assert first.exit_code == 0, first.output
    assert len(list((cache / "samplers").iterdir())) == 1  # written by the first run

    def no_keras(spec):
        raise AssertionError("the Keras model was loaded")

    monkeypatch.setattr(gm, "load", no_keras)  # the next runs must not need it
    second = runner.invoke(sample.app, [str(path), "-n", "3", "--seed", "4", "-f", "npz"])
    assert second.exit_code == 0, second.output
    assert np.array_equal(gio.decode(second.stdout_bytes).indices, gio.decode(first.stdout_bytes).indices)
    data = gio.Stream(indices=np.zeros((2, H, W), np.uint8), palette=PALETTE).to_npz()
    done = runner.invoke(complete.app, [str(path), "-", "-k", "1", "-f", "npz"], input=data)
    assert done.exit_code == 0, done.output
    assert gio.decode(done.stdout_bytes).indices.shape == (2, H, W)
