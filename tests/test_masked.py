"""The masked family (absorbing-state discrete diffusion): completion keeps what is given, sampling
is seeded, the ELBO bounds the exact likelihood of a model small enough to enumerate, and the
commands refuse a bad mask in one line."""

from __future__ import annotations

import itertools
import json
import math

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

from cli import complete, sample
from cli import eval as evaluate
from genkit import io as gio
from genkit import models
from genkit.io import Stream
from genkit.models.capabilities import random_keep
from genkit.models.masked.model import MaskedDiffusion

H, W = 6, 5
GREYS = np.array([[0] * 3, [85] * 3, [170] * 3, [255] * 3], np.uint8)
TINY = dict(embed=4, channels=8, blocks=2, head=8, dilations="1,2", steps=4)
runner = CliRunner()


def tiny_stream(n=4, seed=0) -> Stream:
    rng = np.random.default_rng(seed)
    return Stream(indices=rng.integers(0, len(GREYS), (n, H, W)).astype(np.uint8), palette=GREYS)


def tiny_model(height=H, width=W, palette=GREYS, scale=1.0, **settings) -> MaskedDiffusion:
    keras.utils.set_random_seed(0)
    model = MaskedDiffusion(height, width, palette, **{**TINY, **settings})
    model.build_for_data()
    if scale != 1.0:  # sharper conditionals than a fresh model's near-uniform ones
        model.set_weights([w * scale for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("masked") / "masked.keras"
    return str(models.save(tiny_model(), path, optimizer=False))


@pytest.mark.parametrize("order", ["random", "confidence"])
def test_a_hidden_pixel_never_changes_a_visible_one(order):
    model, data = tiny_model(), tiny_stream()
    for mask in (random_keep(H, W, 0.3, seed=1), (np.arange(H * W) >= 12).reshape(H, W), np.eye(H, W, dtype=bool)):
        done = model.complete_stream(data, mask=mask, k=2, seed=3, steps=3, order=order)
        known = np.repeat(data.indices, 2, axis=0)
        assert np.array_equal(done.indices[:, mask], known[:, mask])
        assert (done.indices < len(GREYS)).all()  # every hidden pixel got a colour, never MASK


def test_a_fully_visible_input_comes_back_unchanged():
    model, data = tiny_model(), tiny_stream()
    done = model.complete_stream(data, mask=np.ones((H, W), bool), k=2, seed=0)
    assert np.array_equal(done.indices, np.repeat(data.indices, 2, axis=0))


def test_sampling_is_deterministic_for_a_seed():
    model = tiny_model()
    for order in ("random", "confidence"):
        a = model.sample_stream(5, seed=7, steps=3, order=order, batch_size=2).indices
        assert np.array_equal(a, model.sample_stream(5, seed=7, steps=3, order=order, batch_size=2).indices)
        assert not np.array_equal(a, model.sample_stream(5, seed=8, steps=3, order=order, batch_size=2).indices)
    done = model.complete_stream(tiny_stream(), keep=0.5, k=2, seed=1, temperature=0.5)
    assert np.array_equal(done.indices, model.complete_stream(tiny_stream(), keep=0.5, k=2, seed=1, temperature=0.5).indices)


def test_random_keep_keeps_its_share_from_its_seed():
    mask = random_keep(20, 20, 0.5, seed=3)
    assert mask.sum() == 200 and np.array_equal(mask, random_keep(20, 20, 0.5, seed=3))
    assert not np.array_equal(mask, random_keep(20, 20, 0.5, seed=4))
    assert random_keep(20, 20, 1.0).all()


def _conditionals(model, x):
    """-log p(x_i | x with the pixels of M hidden), for every hidden set M and i in M."""
    n = x.size
    out = {}
    for m in range(1, n + 1):
        for hidden in itertools.combinations(range(n), m):
            canvas = x.reshape(-1).astype(np.int32).copy()
            canvas[list(hidden)] = model.mask_token
            logits = keras.ops.convert_to_numpy(model.forward(canvas.reshape(1, *x.shape)))[0].reshape(n, -1)
            logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(-1, keepdims=True)
            out[hidden] = {i: -logp[i, x.reshape(-1)[i]] for i in hidden}
    return out


def test_the_elbo_bounds_the_exact_likelihood_of_a_model_small_enough_to_enumerate():
    """2x2 images of 2 colours: the model that reveals one pixel a step in a random order has
    p(x) = mean over the 24 orders of the product of its conditionals, exactly; the
    continuous-time ELBO is the mean over orders of the sum of their -log (a Jensen bound)."""
    two = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    model = tiny_model(2, 2, two, scale=3.0)
    images = np.array(list(itertools.product([0, 1], repeat=4)), np.uint8).reshape(-1, 2, 2)
    exact, analytic = [], []
    for x in images:
        c = _conditionals(model, x)
        exact.append(-math.log(np.mean([math.exp(-sum(c[tuple(sorted(order[j:]))][order[j]] for j in range(4)))
                                         for order in itertools.permutations(range(4))])))
        # the ELBO integral over t, in closed form: a hidden set of size m weighs (m-1)!(n-m)!/n!
        analytic.append(sum(math.factorial(len(m) - 1) * math.factorial(4 - len(m)) / 24 * sum(nll.values())
                            for m, nll in c.items()))
    exact, analytic = np.array(exact), np.array(analytic)
    assert math.isclose(np.exp(-exact).sum(), 1.0, rel_tol=1e-4)  # a proper distribution over the 16 images
    assert (analytic >= exact - 1e-6).all() and (analytic - exact).max() > 1e-3  # a bound, and not a trivial one

    # the Monte-Carlo estimate gk-eval reports agrees with the closed form, within its error
    terms = model.elbo_nats(images, k=400, seed=0, batch_size=512)
    se = terms.std(axis=1, ddof=1) / math.sqrt(400)
    assert (np.abs(terms.mean(axis=1) - analytic) < 4 * se + 1e-3).all()
    result = model.evaluate_stream(Stream(indices=images, palette=two), k=400, seed=0, batch_size=512)
    assert result["bits_per_pixel"] + 3 * result["stderr_bits_per_pixel"] >= exact.mean() / (4 * math.log(2))
    assert math.isclose(result["nats_per_image"], terms.mean(), rel_tol=1e-6)

    # and the sampler with one pixel a step draws from that exact distribution
    drawn = model.sample_stream(3000, seed=1, steps=4, batch_size=500).indices.reshape(-1, 4)
    freq = np.bincount(drawn @ np.array([8, 4, 2, 1]), minlength=16) / len(drawn)
    assert 0.5 * np.abs(freq - np.exp(-exact)).sum() < 0.05


def test_the_commands_sample_complete_and_evaluate(saved, tmp_path):
    a = runner.invoke(sample.app, [saved, "-n", "3", "--steps", "2", "--seed", "4", "-f", "npz"])
    assert a.exit_code == 0, a.output
    b = runner.invoke(sample.app, [saved, "-n", "3", "--steps", "2", "--seed", "4", "-f", "npz"])
    assert a.stdout_bytes == b.stdout_bytes and len(Stream.from_npz(a.stdout_bytes)) == 3
    data = tiny_stream(2, seed=5)
    done = runner.invoke(complete.app, [saved, "-", "--keep-random", "0.5", "-k", "2", "--steps", "3", "-f", "npz"],
                         input=data.to_npz())
    assert done.exit_code == 0, done.output
    out = gio.decode(done.stdout_bytes)
    assert np.array_equal(out.mask[0], random_keep(H, W, 0.5, seed=0))
    assert np.array_equal(out.indices[:, out.mask[0]], np.repeat(data.indices, 2, axis=0)[:, out.mask[0]])
    white = tmp_path / "white.png"
    white.write_bytes(gio.encode_png(Stream(images=np.full((1, H, W, 3), 255, np.uint8))))
    same = runner.invoke(complete.app, [saved, "-", "--mask", str(white), "-k", "1", "-f", "npz"], input=data.to_npz())
    assert same.exit_code == 0, same.output
    assert np.array_equal(gio.decode(same.stdout_bytes).indices, data.indices)
    scored = runner.invoke(evaluate.app, [saved, "-", "-k", "4", "--json"], input=data.to_npz())
    assert scored.exit_code == 0, scored.output
    figures = json.loads(scored.stdout)
    assert figures["model"] == "masked" and figures["k"] == 4 and figures["stderr_bits_per_pixel"] > 0


def test_a_bad_mask_gets_one_line_and_exit_2(saved, tmp_path):
    wrong = tmp_path / "wrong.png"
    wrong.write_bytes(gio.encode_png(Stream(images=np.full((1, H + 1, W, 3), 255, np.uint8))))
    text = tmp_path / "text.png"
    text.write_text("not an image\n")
    data = tiny_stream(1).to_npz()
    for args, msg in [(["--mask", str(wrong)], "the mask is 5x7"), (["--mask", str(text)], "text.png"),
                      (["--keep-random", "0"], "--keep-random must be in (0, 1]"),
                      (["--mask", str(wrong), "--keep-random", "0.5"], "not both"),
                      (["--steps", "0"], "--steps must be at least 1")]:
        result = runner.invoke(complete.app, [saved, "-", *args, "-f", "npz"], input=data)
        assert result.exit_code == 2, (args, result.output)
        assert msg in result.stderr and result.stderr.strip().count("\n") == 0, (args, result.stderr)
        assert result.stdout == ""


def test_the_bound_prints_its_line_and_card_rows():
    from types import SimpleNamespace

    from genkit.models.masked.model import MaskedNLLBound

    result = MaskedNLLBound(model="masked", images=81, k=128, seed=0, bits_per_pixel=2.5, nats_per_image=693.15,
                            stderr_bits_per_pixel=0.004, data="pokemon:test")
    assert result.line() == ("<= 2.5000 bits/px (ELBO bound, ± 0.0040 s.e., 128 masking rates/image, seed 0)  "
                             "693.15 nats/image  81 images  masked  pokemon:test")
    metrics = {"best_epoch": 1, "epochs": [{"epoch": 1, "train_bits_per_pixel": 3.0, "val_bits_per_pixel": 2.9}]}
    extra, rows, history = result.card_rows(metrics, SimpleNamespace(config=SimpleNamespace(steps=32)),
                                            lambda split: {"bits_per_pixel": 2.6})
    assert rows[1].startswith("| **test NLL** | **<= 2.5000 bits/px** (ELBO bound, ± 0.0040")
    assert rows[2] == "| val NLL | <= 2.6000 bits/px |" and "1: 3.000/2.900" in history and "32 refinement steps" in extra


def test_a_pixel_model_takes_keep_random_but_not_steps(tmp_path):
    keras.utils.set_random_seed(0)
    cnn = models.get("pixelcnn")(H, W, GREYS, embed=4, channels=4, layers=2, head=8)
    cnn.build_for_data()
    path = str(models.save(cnn, tmp_path / "cnn.keras", optimizer=False))
    data = tiny_stream(2, seed=6)
    done = runner.invoke(complete.app, [path, "-", "--keep-random", "0.4", "--seed", "2", "-k", "1", "-f", "npz"],
                         input=data.to_npz())
    assert done.exit_code == 0, done.output
    out = gio.decode(done.stdout_bytes)
    kept = random_keep(H, W, 0.4, seed=2)
    assert np.array_equal(out.mask[0], kept) and np.array_equal(out.indices[:, kept], data.indices[:, kept])
    refused = runner.invoke(complete.app, [path, "-", "--steps", "8", "-f", "npz"], input=data.to_npz())
    assert refused.exit_code == 2 and "--steps needs a model that draws in refinement steps (masked)" in refused.stderr
    refused = runner.invoke(sample.app, [path, "-n", "2", "--steps", "8", "-f", "npz"])
    assert refused.exit_code == 2 and "--steps without --grid needs" in refused.stderr
