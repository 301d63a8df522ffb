"""The gated PixelCNN: causality (no blind spot), the cached stepper, sampling, save/load, training."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import genkit.models as gm  # noqa: E402
from genkit.errors import GenkitError  # noqa: E402
from genkit.models.pixelcnn.config import MODEL_CLASS, PixelCNNConfig  # noqa: E402
from genkit.models.pixelcnn.model import PixelCNN  # noqa: E402

H, W, K = 6, 5, 5
PALETTE = np.arange(3 * K, dtype=np.uint8).reshape(K, 3) * 10


def tiny(layers=3, kernel=3, dropout=0.0, **kw) -> PixelCNN:
    keras.utils.set_random_seed(1)
    model = PixelCNN(H, W, PALETTE, embed=6, channels=8, layers=layers, kernel=kernel, head=16, dropout=dropout, **kw)
    model.build_for_data()
    return model


def jacobian_support(model, r, c) -> np.ndarray:
    """(H, W) bool: which input pixels' embeddings the logits at (r, c) depend on."""
    emb = tf.Variable(np.random.default_rng(r * W + c).normal(size=(1, H, W, model.config.embed)).astype("float32"))
    weights = tf.constant(np.random.default_rng(7).normal(size=K).astype("float32"))
    with tf.GradientTape() as tape:
        logits = model.call_embedded(emb)
        y = tf.reduce_sum(logits[0, r, c] * weights)
    grad = tape.gradient(y, emb).numpy()[0]
    return np.abs(grad).sum(axis=-1) > 1e-7


def test_registry_and_config():
    assert gm.get("pixelcnn") is PixelCNN
    assert MODEL_CLASS == "PixelCNN"
    assert gm._class_names()["pixelcnn"] == "PixelCNN"
    model = tiny()
    cfg = model.get_config()
    assert {k: cfg[k] for k in ("embed", "channels", "layers", "kernel", "head", "dropout")} == {
        "embed": 6, "channels": 8, "layers": 3, "kernel": 3, "head": 16, "dropout": 0.0
    }
    # The constructor's defaults are the config's (what gk-train --set starts from).
    assert PixelCNN(H, W, PALETTE).config == PixelCNNConfig()
    with pytest.raises(GenkitError):
        PixelCNN(H, W, PALETTE, kernel=4)


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_causal_by_gradients(layers):
    model = tiny(layers=layers)
    order = np.arange(H * W).reshape(H, W)
    for r in range(H):
        for c in range(W):
            support = jacobian_support(model, r, c)
            # Never itself or a later pixel.
            assert not support[order >= r * W + c].any(), (r, c)
            if c > 0:
                assert support[r, c - 1], ("left", r, c)
            if r > 0:
                assert support[r - 1, c], ("above", r, c)
                # No blind spot: the pixel up and to the right is seen too.
                if c + 1 < W:
                    assert support[r - 1, c + 1], ("up-right", r, c)


def test_receptive_field_grows_with_layers():
    # Three layers with kernel 3 reach 3 pixels to the left and cover 2 rows above fully near (4, 2).
    support = jacobian_support(tiny(layers=3), 4, 2)
    assert support[4, :2].all()
    assert support[2:4, :].all()


@pytest.mark.parametrize("kernel,layers", [(3, 3), (5, 2), (1, 2)])
def test_stepper_matches_naive(kernel, layers):
    model = tiny(layers=layers, kernel=kernel)
    canvas = np.random.default_rng(3).integers(0, K, (3, H * W)).astype(np.int32)
    step = model.stepper(3)
    for t in range(H * W):
        np.testing.assert_allclose(step.logits(t, canvas), model.naive_logits(t, canvas), atol=1e-4, rtol=1e-4)
    # A second pass (t back to 0) starts over.
    np.testing.assert_allclose(step.logits(0, canvas), model.naive_logits(0, canvas), atol=1e-4)


def test_stepper_refuses_skipped_positions():
    step = tiny().stepper(1)
    canvas = np.zeros((1, H * W), np.int32)
    step.logits(0, canvas)
    with pytest.raises(ValueError):
        step.logits(2, canvas)


def test_generate():
    model = tiny()
    a = model.generate(4, seed=5, batch_size=3)
    assert a.shape == (4, H, W) and a.dtype == np.uint8
    assert a.max() < K
    np.testing.assert_array_equal(a, model.generate(4, seed=5, batch_size=3))
    assert not np.array_equal(a, model.generate(4, seed=6, batch_size=3))
    g1 = model.generate(2, temperature=0, seed=1)
    np.testing.assert_array_equal(g1, model.generate(2, temperature=0, seed=2))
    # Cached and naive sampling draw the same images.
    np.testing.assert_array_equal(model.generate(2, seed=9), model.generate(2, seed=9, naive=True))


def test_completion_keeps_given_pixels():
    model = tiny()
    rng = np.random.default_rng(4)
    known = rng.integers(0, K, (3, H, W))
    mask = rng.random((3, H, W)) < 0.5
    out = model.generate(3, seed=2, known=known, mask=mask)
    np.testing.assert_array_equal(out[mask], known[mask])


def test_save_load(tmp_path):
    model = tiny(dropout=0.1)
    path = gm.save(model, tmp_path / "m.keras")
    assert gm.family_of(path) == "pixelcnn"
    loaded = gm.load(str(path))
    assert isinstance(loaded, PixelCNN)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.palette, PALETTE)
    x = np.random.default_rng(0).integers(0, K, (2, H, W)).astype(np.int32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


def test_train_on_batch_and_nll():
    model = tiny(dropout=0.1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=model.loss_fn())
    x = np.random.default_rng(0).integers(0, K, (4, H, W)).astype(np.int32)
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, x)
    loss = float(np.asarray(loss).reshape(-1)[0])
    assert np.isfinite(loss)
    after = model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    nll = model.nll_nats(x)
    assert nll.shape == (4,) and np.isfinite(nll).all()


def test_compiled_loop_equals_naive_for_completion_and_temperature():
    # The compiled raster loop (generate) and the Python loop over whole-model passes (naive) draw the
    # same pixels from the same uniforms: completion at a temperature, and greedy.
    model = tiny()
    rng = np.random.default_rng(8)
    known = rng.integers(0, K, (3, H, W))
    mask = rng.random((3, H, W)) < 0.4
    a = model.generate(3, seed=4, known=known, mask=mask, temperature=0.7, batch_size=2)
    np.testing.assert_array_equal(a, model.generate(3, seed=4, known=known, mask=mask, temperature=0.7, batch_size=2, naive=True))
    np.testing.assert_array_equal(model.generate(2, temperature=0), model.generate(2, temperature=0, naive=True))


@pytest.mark.parametrize("threads", ["1", "3"])
def test_threads_draw_the_images_of_one_loop(monkeypatch, threads):
    # A batch split among sampling threads keeps each image's uniforms: the images of one thread,
    # and of the naive loop, for sampling and completion.
    model = tiny()
    assert model.parallel_sampling
    rng = np.random.default_rng(3)
    known = rng.integers(0, K, (5, H, W))
    mask = rng.random((5, H, W)) < 0.3
    monkeypatch.setenv("GENKIT_SAMPLING_THREADS", threads)
    drawn = model.generate(5, seed=2, known=known, mask=mask, temperature=0.8, batch_size=5)
    np.testing.assert_array_equal(drawn, model.generate(5, seed=2, known=known, mask=mask, temperature=0.8, naive=True))


def test_sampling_threads_setting(monkeypatch):
    from genkit.models.base import sampling_threads
    monkeypatch.setenv("GENKIT_SAMPLING_THREADS", "3")
    assert sampling_threads() == 3
    monkeypatch.setenv("GENKIT_SAMPLING_THREADS", "many")
    with pytest.raises(GenkitError, match="GENKIT_SAMPLING_THREADS"):
        sampling_threads()
    monkeypatch.delenv("GENKIT_SAMPLING_THREADS")
    assert sampling_threads() >= 1


@pytest.mark.parametrize("k", [1, 5, 8, 9, 167])
def test_the_draw_agrees_in_numpy_and_tensorflow(k):
    # pick and pick_tf count the same whole-number running sums (any number of categories: a
    # block, less than one, not a whole number of blocks), so they draw the same category
    from genkit.models.base import pick, pick_tf
    rng = np.random.default_rng(k)
    logits, u = rng.normal(size=(2000, k)) * 3, rng.random(2000)
    u[:4] = [0.0, 1 - 2**-53, 0.5, 1e-300]  # the ends of [0, 1)
    logits[4] = -np.inf
    logits[4, k // 2] = 0.0  # one possible category: always it
    picked = pick(logits, 0.9, u)
    np.testing.assert_array_equal(picked, pick_tf(tf.constant(logits), tf.constant(0.9, tf.float64), tf.constant(u)).numpy())
    narrow = logits.astype(np.float32)  # the models' logits: the maximum is taken off in float32, in both
    np.testing.assert_array_equal(pick(narrow, 0.9, u),
                                  pick_tf(tf.constant(narrow), tf.constant(0.9, tf.float64), tf.constant(u)).numpy())
    assert picked[4] == k // 2 and picked.min() >= 0 and picked.max() <= k - 1
    # the inverse CDF: the first category whose running probability passes u
    p = np.exp(logits / 0.9 - (logits / 0.9).max(axis=1, keepdims=True))
    cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    expected = np.minimum((cdf < u[:, None]).sum(axis=1), k - 1)
    assert (picked == expected).mean() > 0.999
    # greedy: the argmax, in both
    np.testing.assert_array_equal(pick(logits, 0.0, None), np.argmax(logits, axis=1))
    np.testing.assert_array_equal(pick_tf(tf.constant(logits), tf.constant(0.0, tf.float64), tf.constant(u)).numpy(),
                                  np.argmax(logits, axis=1))


def test_the_draw_of_many_categories_does_not_overflow():
    # the sentence models draw over vocabularies of 10,000 words and more: a flat distribution
    # sums to k times the scale, which must stay within int64
    from genkit.models.base import pick, pick_tf
    for k in (10_002, 20_000):
        logits, u = np.zeros((4, k), np.float32), np.array([0.1, 0.5, 0.9, 0.99])
        picked = pick(logits, 1.0, u)
        np.testing.assert_array_equal(picked, np.floor(u * k).astype(int))
        np.testing.assert_array_equal(picked, pick_tf(tf.constant(logits), tf.constant(1.0, tf.float64),
                                                      tf.constant(u)).numpy())


def test_the_draw_follows_the_probabilities():
    from genkit.models.base import pick
    p = np.array([0.1, 0.0, 0.6, 0.3])
    u = np.random.default_rng(0).random(200_000)
    counts = np.bincount(pick(np.log(np.tile(p, (len(u), 1)) + 1e-300), 1.0, u), minlength=4) / len(u)
    np.testing.assert_allclose(counts, p, atol=0.005)
    assert counts[1] == 0  # a category of probability 0 is never drawn
