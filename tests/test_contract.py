"""The zoo's contract, checked on every family in the registry, and a family added from outside.

Every family, built tiny from its defaults: one training step changes its weights, and save ->
load gives the same model (the same validation losses). ``Indep`` (a per-pixel independent
categorical model, defined here and registered at run time) proves that a family is one module
plus one registry line: genkit.train trains it, genkit.models loads, samples and evaluates it,
and no other file knows it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf
import pytest
from keras import ops

from genkit import models
from genkit.errors import GenkitError
from genkit.io import Stream
from genkit.models.base import PixelModel
from genkit.models.settings import Settings, resolve_model_config
from genkit.text import Sentences
from genkit.train import RunConfig, batches, train

H, W = 8, 8
GREYS = np.array([[0] * 3, [85] * 3, [170] * 3, [255] * 3], np.uint8)  # four grey levels: every image family can learn them
SENTENCES = ["the cat sat on the mat .", "a dog ran in the park .", "birds fly over the sea .", "we eat bread ."]


# -- a family from outside genkit: one config, one model, one registry line -------------------------
@dataclasses.dataclass
class IndepConfig(Settings):
    scale: float = 0.01  # standard deviation of the initial logits

    LIMITS: ClassVar[dict] = {"scale": (0.0, None)}


@models.register("indep", about="independent categorical per pixel: one logit table (H, W, K)", config=IndepConfig)
class Indep(PixelModel):
    """Every pixel its own categorical, whatever the others are: logits (H, W, K) and nothing else."""

    config_class = IndepConfig

    def __init__(self, height, width, palette, **settings):
        super().__init__(height, width, palette, **settings)
        self.table = self.add_weight(shape=(self.height, self.width, self.num_colors), name="logits",
                                     initializer=keras.initializers.RandomNormal(stddev=self.config.scale))

    def call(self, indices, training=False):
        return ops.expand_dims(ops.zeros_like(ops.cast(indices, "float32")), -1) + self.table

    def build_layers(self) -> None:  # the table is made in __init__: nothing to build
        pass

    # the sampling loop's contract: no caches; the logits of position t whatever was drawn before
    def sample_state(self, batch) -> tuple:
        return (tf.zeros([batch]),)

    def sample_logits(self, t, canvas, state):
        logits = tf.reshape(self.table, (-1, self.num_colors))[t]
        return tf.broadcast_to(logits, (tf.shape(canvas)[1], self.num_colors)), state


# -- tiny data and tiny settings ---------------------------------------------------------------------
#: settings that make each built-in family small; a family not named here is built from its defaults
SMALL = {
    "pixelrnn": dict(embed=4, hidden=8, layers=1),
    "pixelcnn": dict(embed=4, channels=4, layers=2, head=8),
    "vae": dict(latent=2, hidden=8, channels=4),
    "ae": dict(latent=2, hidden=8, channels=4),
    "cvae": dict(latent=2, hidden=8, channels=4, classes=3),
    "gan": dict(latent=4, channels=4),
    "classifier": dict(channels=2, hidden=8),
    "sentence-vae": dict(latent=2, embed=8, hidden=8, vocab=40),
}


def tiny_images(n=24, seed=0) -> Stream:
    """Grey 8x8 images on four levels, labelled 0..2: a dark frame and a bright label-wide stripe."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    idx = rng.integers(0, 2, (n, H, W)).astype(np.uint8)
    for i, y in enumerate(labels):
        idx[i, :, 2 * y : 2 * y + 3] = 3
    return Stream(indices=idx, palette=GREYS, labels=labels.astype(np.int64))


def tiny_data(family: str):
    if models.data_kind(family) == "text":
        return Sentences(SENTENCES * 6)
    return tiny_images()


_MEMBERS: dict = {}


def tiny_members(data) -> str:
    """A mixture's members: the tiny pixelcnn and pixelrnn, saved once for the session."""
    if "paths" not in _MEMBERS:
        import atexit
        import shutil
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="genkit-members-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _MEMBERS["paths"] = ",".join(str(models.save(tiny_model(f, data), folder / f"{f}.keras", optimizer=False))
                                     for f in ("pixelcnn", "pixelrnn"))
    return _MEMBERS["paths"]


def tiny_model(family: str, data):
    settings = [f"{k}={v}" for k, v in SMALL.get(family, {}).items()]
    if family == "mixture":  # made of trained pixel models: two tiny ones
        settings.append(f"members={tiny_members(data)}")
    config = resolve_model_config(family, overrides=settings)
    keras.utils.set_random_seed(0)
    model = models.get(family).for_stream(data, **config)
    model.build_for_data()
    return model


def one_batch(model, data, *, shuffle: bool):
    ds = batches(model, model.train_arrays(data), 8, shuffle=shuffle, flip=False, seed=0, prefetch=False)
    return ds.take(1)


# -- the contract ----------------------------------------------------------------------------------------
def test_every_built_in_family_is_in_the_registry_without_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from genkit import models; "
            "print([models.data_kind(n) for n in models.names()], [models.config_class(n)() for n in models.names()]); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert set(models.FAMILIES) <= set(models.names())


@pytest.mark.parametrize("family", models.names())
def test_a_training_step_changes_the_weights_and_save_load_keeps_the_model(family, tmp_path):
    data = tiny_data(family)
    model = tiny_model(family, data)
    model.compile_for_training(1e-2)
    before = [w.copy() for w in model.get_weights()]
    model.fit(one_batch(model, data, shuffle=True), steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after)), f"{family}: one step changed nothing"

    back = models.load(str(models.save(model, tmp_path / f"{family}.keras", optimizer=False)))
    assert type(back) is type(model) and back.family == family
    assert back.get_config() == model.get_config()
    assert all(np.array_equal(a, b) for a, b in zip(back.get_weights(), model.get_weights()))
    back.compile_for_training(1e-2)
    val = one_batch(model, data, shuffle=False)
    assert back.evaluate(val, verbose=0, return_dict=True) == model.evaluate(val, verbose=0, return_dict=True)


@pytest.mark.parametrize("family", models.names())
def test_settings_out_of_bounds_fail_in_one_line_whoever_builds_the_model(family):
    cls = models.config_class(family)
    for key, (low, _) in cls.LIMITS.items():
        bad = low - 1 if isinstance(low, int) else low - 0.5
        with pytest.raises(GenkitError, match=f"{key} must be"):
            resolve_model_config(family, overrides=[f"{key}={bad}"])
        with pytest.raises(GenkitError, match=f"{key} must be"):
            cls(**{key: bad}).validate()
    with pytest.raises(GenkitError, match="has no setting 'nothing'"):
        resolve_model_config(family, overrides=["nothing=1"])


# -- a family registered at run time -----------------------------------------------------------------------
def test_a_family_from_outside_genkit_is_served_like_the_built_in_ones(tmp_path):
    assert "indep" in models.names() and "indep" not in models.FAMILIES
    assert models.get("indep") is Indep and models.config_class("indep") is IndepConfig
    assert models.data_kind("indep") == "images" and models.about("indep").startswith("independent")
    with pytest.raises(GenkitError, match="scale must be at least 0.0"):
        resolve_model_config("indep", overrides=["scale=-1"])

    data = tiny_images(60)
    path = train(data, RunConfig(family="indep", epochs=3, batch_size=10, lr=0.1, model=resolve_model_config("indep")),
                 tmp_path / "run", progress=False)
    assert models.family_of(path) == "indep"
    net = models.load(str(tmp_path / "run"))
    assert isinstance(net, Indep) and net.config == IndepConfig()

    drawn = net.sample_stream(5, seed=1)
    assert drawn.indices.shape == (5, H, W) and np.array_equal(drawn.palette, GREYS)
    assert np.array_equal(drawn.indices, net.sample_stream(5, seed=1).indices)
    score = net.evaluate_stream(tiny_images(12, seed=3))
    assert score["model"] == "indep" and score["images"] == 12
    assert score["bits_per_pixel"] < math.log2(len(GREYS))  # it learned something: below a uniform guess
    # the likelihood is the table's: log-softmax of each pixel's logits at its colour
    x = tiny_images(12, seed=3).indices
    logp = ops.convert_to_numpy(ops.log_softmax(net.table, axis=-1))
    nats = -np.take_along_axis(logp[None], x[..., None].astype(np.int64), -1).sum((1, 2, 3))
    assert math.isclose(score["nats_per_image"], nats.mean(), rel_tol=1e-5)


# -- every capability a family declares runs on tiny data ----------------------------------------------
def _ends(model, data, tmp_path):
    """The two ends of an interpolation, read the way gk-interp reads them from its arguments."""
    from genkit.io import write_stream
    from genkit.models.base import InterpolatesNoise

    if isinstance(model, InterpolatesNoise):
        return model.interpolation_ends([], seed_a=1, seed_b=2)
    if isinstance(data, Sentences):
        return model.interpolation_ends(SENTENCES[:2])
    pair = tmp_path / "pair.npz"
    write_stream(data.select([0, 3]), str(pair), "npz")  # the same label, for a conditional model
    return model.interpolation_ends([str(pair)])


@pytest.mark.parametrize("family", models.names())
def test_every_capability_a_family_declares_runs(family, tmp_path):
    from genkit.models import capabilities as caps

    data = tiny_data(family)
    model = tiny_model(family, data)
    declared = [c for c in (caps.Samples, caps.Completes, caps.Interpolates, caps.Evaluates, caps.SweepsCode,
                            caps.Conditional) if isinstance(model, c)]
    assert declared or family == "indep", f"{family} declares no capability"
    for cap in declared:
        if cap is caps.Samples:
            out = model.sample_stream(3, seed=0)
            assert len(out) == 3
            assert len(model.sample_stream(3, seed=0)) == 3
        elif cap is caps.Completes:
            known = data.select([0, 1])
            out = model.complete_stream(known, keep=0.5, k=2, seed=0)
            assert len(out) == 4 and out.mask is not None
            given = out.mask
            assert np.array_equal(out.indices[given], np.repeat(known.indices, 2, axis=0)[given])
        elif cap is caps.Interpolates:
            a, b = _ends(model, data, tmp_path)
            assert len(model.interpolate(a, b, 3)) == 3
        elif cap is caps.Evaluates and family == "gan":
            continue  # its realness needs the shipped judge's 28x28 digits: tests/test_gan.py scores it
        elif cap is caps.Evaluates:
            result = model.evaluate_stream(data, k=2) if not isinstance(data, Sentences) else \
                model.evaluate_stream(Sentences(SENTENCES), k=2)
            result["data"] = "tiny"
            assert isinstance(result, caps.Evaluation) and result.count > 0
            assert result.line() and json.loads(result.to_json())["model"] == family
        elif cap is caps.SweepsCode:
            assert len(model.grid_stream((0, 1), -1.0, 1.0, 2, label=0 if model.conditional else None)) == 4
        elif cap is caps.Conditional:
            assert len(model.style_stream(data.select([0, 1]), [0, 1, 2])) == 6


def test_the_commands_serve_a_family_registered_at_run_time(tmp_path):
    """gk-train, gk-sample and gk-eval, called in-process, on the family defined in this file."""
    from typer.testing import CliRunner

    from cli import eval as evaluate
    from cli import sample
    from cli import train as train_cli
    from genkit.io import write_stream

    data = tmp_path / "tiny.npz"
    write_stream(tiny_images(60), str(data), "npz")
    runner = CliRunner()
    done = runner.invoke(train_cli.app, ["indep", "--data", str(data), "--epochs", "2", "--lr", "0.1", "-o", str(tmp_path / "run"), "-q"])
    assert done.exit_code == 0, done.output
    drawn = runner.invoke(sample.app, [str(tmp_path / "run"), "-n", "3", "-f", "npz"])
    assert drawn.exit_code == 0 and len(Stream.from_npz(drawn.stdout_bytes)) == 3
    scored = runner.invoke(evaluate.app, [str(tmp_path / "run"), str(data), "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["model"] == "indep"
