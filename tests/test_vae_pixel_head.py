"""The vae family's autoregressive pixel head (--set pixel_head=C): causal, drawn pixel by pixel
with the same probabilities that training scores, kept in the checkpoint."""

import numpy as np
import pytest

from genkit import models
from genkit.errors import GenkitError
from genkit.models.vae.model import HEAD_COLS, HEAD_ROWS
from genkit.train import RunConfig, train
from test_vae import TINY, grey_stream, palette_stream, tiny


def head_model(**cfg):
    model = tiny("vae", grey_stream(), arch="mlp", pixel_head=5, head_code=2, **cfg)
    rng = np.random.default_rng(0)
    for w in model.weights:  # random weights large enough that every pixel's context matters
        w.assign(rng.normal(0.0, 0.7, w.shape).astype(np.float32))
    return model


def test_the_head_reads_only_the_pixels_before_each_pixel():
    model = head_model()
    h, w = model.height, model.width
    rng = np.random.default_rng(1)
    x = (rng.random((1, h, w)) < 0.5).astype(np.float32)
    dec = rng.normal(size=(1, h, w, 3)).astype(np.float32)
    base = np.asarray(model.head_logits(x, dec))[0]
    for i in range(h):
        for j in range(w):
            y = x.copy()
            y[0, i, j] = 1 - y[0, i, j]
            changed = np.abs(np.asarray(model.head_logits(y, dec))[0] - base) > 1e-5
            rows, cols = np.nonzero(changed)
            order = rows * w + cols
            assert np.all(order > i * w + j), (i, j)  # nothing at or before the flipped pixel moves
            # and only pixels within the head's window: up to HEAD_ROWS rows below, HEAD_COLS columns aside
            assert np.all(rows - i <= HEAD_ROWS) and np.all(np.abs(cols - j) <= HEAD_COLS)
    # the window is used: flipping the pixel just above changes this one
    y = x.copy()
    y[0, 1, 2] = 1 - y[0, 1, 2]
    assert abs(float(np.asarray(model.head_logits(y, dec))[0, 2, 2]) - float(base[2, 2])) > 1e-5


@pytest.mark.parametrize("decode", ["sample", "greedy", "mean"])
def test_drawn_pictures_carry_the_probabilities_training_scores(decode):
    model = head_model()
    rng = np.random.default_rng(2)
    dec = rng.normal(size=(6, model.height, model.width, 3)).astype(np.float32)
    levels, probs = model._raster(dec, decode, np.random.default_rng(3))
    ink = (levels > 127).astype(np.float32) if decode != "mean" else (probs > 0.5).astype(np.float32)
    scored = 1.0 / (1.0 + np.exp(-np.asarray(model.head_logits(ink, dec))))
    assert np.allclose(scored, probs, atol=1e-4)  # teacher forcing on the drawn pixels gives their probabilities
    if decode == "greedy":
        assert np.array_equal(levels > 127, probs > 0.5)
    if decode == "mean":
        assert np.array_equal(levels, np.rint(probs * 255).astype(np.uint8))
    if decode == "sample":
        assert 0.05 < (levels > 127).mean() < 0.95


def test_a_pixel_head_model_trains_saves_and_draws(tmp_path):
    run = RunConfig(family="vae", epochs=2, batch_size=20, lr=3e-3, model=dict(TINY, arch="mlp", pixel_head=4, head_code=2))
    path = train(grey_stream(60), run, tmp_path / "run", progress=False)
    back = models.load(str(path))
    assert back.pixel_head == 4 and back.head_code == 2
    assert np.isfinite(back.evaluate_stream(grey_stream(6, seed=7), k=5)["nll_nats"])
    a = back.sample_stream(3, seed=1, decode="sample")
    b = back.sample_stream(3, seed=1, decode="sample")
    assert a.indices.shape == (3, back.height, back.width) and np.array_equal(a.indices, b.indices)
    assert back.grid_stream((0, 1), -1.0, 1.0, 2, decode="mean").indices.shape[0] == 4


def test_the_head_needs_ink_images():
    with pytest.raises(GenkitError, match="pixel_head needs a bernoulli decoder"):
        tiny("vae", palette_stream(), pixel_head=4)
    assert tiny("vae", grey_stream(), arch="mlp").pixel_head == 0


def test_the_bound_computes_each_image_context_once_with_the_same_result():
    model = head_model()
    rng = np.random.default_rng(4)
    x = (rng.random((3, model.height, model.width)) < 0.4).astype(np.float32)
    dec = rng.normal(size=(3 * 5, model.height, model.width, 3)).astype(np.float32)
    shared = np.asarray(model.log_px(x, dec, 5))
    repeated = np.asarray(model.log_px(np.repeat(x, 5, axis=0), dec))
    assert np.allclose(shared, repeated, rtol=1e-5)


def test_free_bits_floor_each_images_kl_in_the_training_loss():
    from genkit.models.vae.model import ELBOLoss

    y = np.array([[10.0, 2.0], [10.0, 7.0]], np.float32)  # (reconstruction, KL) per image
    assert np.allclose(np.asarray(ELBOLoss(1.0, kl_floor=5.0).call(None, y)), [15.0, 17.0])
    assert np.allclose(np.asarray(ELBOLoss(1.0).call(None, y)), [12.0, 17.0])
    model = tiny("vae", grey_stream(), arch="mlp", kl_floor=5.0)
    assert model.loss_fn().kl_floor == 5.0 and "kl_floor" in model.config.TRAINING_ONLY
    with pytest.raises(GenkitError, match="leave kl_floor at 0"):
        tiny("vae", grey_stream(), iwae_k=4, kl_floor=1.0)


def test_the_conditional_vae_takes_the_head_too(tmp_path):
    run = RunConfig(family="cvae", epochs=1, batch_size=20, lr=3e-3,
                    model=dict(TINY, arch="mlp", classes=3, pixel_head=3, head_code=1, kl_floor=1.0))
    back = models.load(str(train(grey_stream(60), run, tmp_path / "run", progress=False)))
    assert back.conditional and back.pixel_head == 3
    assert np.isfinite(back.evaluate_stream(grey_stream(6, seed=7), k=3)["nll_nats"])
    styled = back.style_stream(grey_stream(2, seed=8), [0, 1])  # each image's code drawn as 0 and 1
    assert styled.indices.shape == (4, back.height, back.width)
