"""PixelRNN, tiny: causality, cached == naive sampling, seeds, completion, save/load, a train step."""

import keras
import numpy as np
import pytest

from genkit import models
from genkit.errors import GenkitError

K, H, W = 5, 4, 3


@pytest.fixture(scope="module")
def model():
    cls = models.get("pixelrnn")
    palette = np.random.default_rng(0).integers(0, 256, (K, 3)).astype(np.uint8)
    m = cls(H, W, palette, embed=8, hidden=12, layers=2, dropout=0.0)
    m.build_for_data()
    return m


def test_no_pixel_sees_itself_or_a_later_one(model):
    rng = np.random.default_rng(1)
    x = rng.integers(0, K, (2, H, W))
    base = keras.ops.convert_to_numpy(model(x))
    for t in range(H * W):
        changed = x.reshape(2, -1).copy()
        changed[:, t:] = (changed[:, t:] + 1) % K  # alter pixel t and everything after it
        out = keras.ops.convert_to_numpy(model(changed.reshape(2, H, W)))
        r, c = divmod(t, W)
        assert np.allclose(out.reshape(2, -1, K)[:, : t + 1], base.reshape(2, -1, K)[:, : t + 1], atol=1e-5)
        if t + 1 < H * W:  # ...while the next pixel does depend on it
            assert not np.allclose(out.reshape(2, -1, K)[:, t + 1], base.reshape(2, -1, K)[:, t + 1])


def test_cached_logits_equal_the_naive_computation(model):
    canvas = np.random.default_rng(2).integers(0, K, (3, H * W)).astype(np.int32)
    step = model.stepper(3)
    for t in range(H * W):
        assert np.allclose(step.logits(t, canvas), model.naive_logits(t, canvas), atol=1e-5)


def test_sampling_seeds_range_and_greedy(model):
    a = model.generate(6, seed=3)
    assert a.shape == (6, H, W) and a.dtype == np.uint8 and a.max() < K
    assert np.array_equal(a, model.generate(6, seed=3))
    assert not np.array_equal(a, model.generate(6, seed=4))
    greedy = model.generate(4, temperature=0, seed=5)
    assert all(np.array_equal(greedy[0], g) for g in greedy)  # no randomness: every image the same
    assert np.array_equal(model.generate(6, seed=3, naive=True), a)  # same draws either way


def test_completion_keeps_the_given_pixels(model):
    rng = np.random.default_rng(6)
    known = rng.integers(0, K, (4, H, W)).astype(np.uint8)
    mask = rng.random((4, H, W)) < 0.5
    out = model.generate(4, seed=1, known=known, mask=mask)
    assert np.array_equal(out[mask], known[mask])


def test_save_load_same_outputs(model, tmp_path):
    x = np.random.default_rng(7).integers(0, K, (2, H, W))
    path = models.save(model, tmp_path / "m.keras")
    back = models.load(str(path))
    assert type(back).__name__ == "PixelRNN" and np.array_equal(back.palette, model.palette)
    assert np.allclose(keras.ops.convert_to_numpy(back(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6)


def test_foreign_and_broken_files_are_refused(tmp_path):
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    plain.save(tmp_path / "plain.keras")
    with pytest.raises(GenkitError, match="not a genkit model"):
        models.load(str(tmp_path / "plain.keras"))
    (tmp_path / "junk.keras").write_bytes(b"junk")
    with pytest.raises(GenkitError, match="not a genkit model"):
        models.load(str(tmp_path / "junk.keras"))
    with pytest.raises(GenkitError, match="no such model"):
        models.load(str(tmp_path / "missing.keras"))


def test_a_train_step_changes_the_weights(model):
    m = models.get("pixelrnn").from_config(model.get_config())
    m.build_for_data()
    m.compile(optimizer=keras.optimizers.Adam(1e-2), loss=m.loss_fn())
    before = [w.copy() for w in m.get_weights()]
    x = np.random.default_rng(8).integers(0, K, (4, H, W)).astype(np.int32)
    loss = m.train_on_batch(x, x)
    assert np.isfinite(loss)
    assert all(not np.array_equal(a, b) for a, b in zip(before, m.get_weights()))


def test_compiled_loop_equals_naive_for_completion_and_temperature(model):
    rng = np.random.default_rng(9)
    known = rng.integers(0, K, (3, H, W))
    mask = rng.random((3, H, W)) < 0.4
    a = model.generate(3, seed=4, known=known, mask=mask, temperature=0.7, batch_size=2)
    assert np.array_equal(a, model.generate(3, seed=4, known=known, mask=mask, temperature=0.7, batch_size=2, naive=True))
    assert np.array_equal(model.generate(2, temperature=0), model.generate(2, temperature=0, naive=True))


def test_threads_draw_the_images_of_one_loop(model, monkeypatch):
    # PixelRNN samples on several threads too (each on part of the batch, with its own uniforms):
    # the images of the naive loop.
    assert model.parallel_sampling
    monkeypatch.setenv("GENKIT_SAMPLING_THREADS", "2")
    drawn = model.generate(5, seed=2, temperature=0.8, batch_size=5)
    np.testing.assert_array_equal(drawn, model.generate(5, seed=2, temperature=0.8, naive=True))
