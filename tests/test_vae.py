"""The VAE family (vae, ae, cvae) on tiny models: the loss, the sampler, the bounds, the figures."""

import math

import numpy as np
import pytest
import tensorflow as tf

from genkit import models
from genkit.errors import GenkitError
from genkit.io import Stream
from genkit.models.vae.model import VAE
from genkit.palettes import grey256
from genkit.train import RunConfig, train

H, W, K = 6, 5, 4
TINY = dict(latent=3, hidden=16, channels=4)


def palette_stream(n=40, seed=0):
    rng = np.random.default_rng(seed)
    idx = np.zeros((n, H, W), np.uint8)
    idx[:, :, 2] = rng.integers(0, K, (n, 1))  # one colour per image in the middle column
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    return Stream(indices=idx, palette=palette, labels=(np.arange(n) % 3).astype(np.int64))


def grey_stream(n=40, seed=0):
    """Faint grey noise with one inked row and one inked column per image: a code worth having."""
    rng = np.random.default_rng(seed)
    idx = (rng.random((n, H, W)) * 40).astype(np.uint8)
    idx[np.arange(n), rng.integers(0, H, n), :] = 250
    idx[np.arange(n), :, rng.integers(0, W, n)] = 250
    return Stream(indices=idx, palette=grey256(), labels=(np.arange(n) % 3).astype(np.int64))


def tiny(family="vae", stream=None, **cfg):
    stream = stream or palette_stream()
    model = models.get(family).for_stream(stream, **{**TINY, **cfg})
    model.build_for_data()
    return model


def test_kl_is_the_closed_form_and_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(4, 3)).astype(np.float32)
    logvar = rng.normal(size=(4, 3)).astype(np.float32)
    ours = np.asarray(VAE.kl_terms(m, logvar)).sum(-1)
    s = np.exp(0.5 * logvar)
    closed = (np.log(1 / s) + (s**2 + m**2) / 2 - 0.5).sum(-1)  # KL(N(m, s^2) || N(0, 1))
    assert np.allclose(ours, closed, atol=1e-5)
    z = m[None] + s[None] * rng.normal(size=(200_000, 4, 3))
    log_q = (-0.5 * ((z - m) / s) ** 2 - np.log(s)).sum(-1)
    log_p = (-0.5 * z**2).sum(-1)
    mc = (log_q - log_p).mean(0)
    assert np.allclose(ours, mc, atol=0.03)


def test_the_lectures_kl_term_is_twice_ours_when_sigma_is_the_log_variance():
    # the lecture's sum(exp(v) - (1 + v) + m^2), with v read as the log-variance, is our KL without the 1/2
    m, v = np.float32([0.3, -1.0]), np.float32([0.5, -0.2])
    lecture = (np.exp(v) - (1 + v) + m**2).sum()
    assert math.isclose(lecture, 2 * float(np.asarray(VAE.kl_terms(m, v)).sum()), rel_tol=1e-5)


def test_gradients_flow_through_the_reparameterised_sample():
    model = tiny()
    x = palette_stream(8).indices.astype(np.int32)
    eps = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    with tf.GradientTape() as tape:
        rec = tf.reduce_sum(model((x, eps), training=True)[:, 0])  # reconstruction only: σ enters via the sample
    grad = tape.gradient(rec, model.to_stats.kernel)
    g = np.asarray(grad)
    assert np.abs(g[:, :3]).sum() > 0  # through m
    assert np.abs(g[:, 3:]).sum() > 0  # through σ, only because c = m + exp(σ/2)·e
    with tf.GradientTape() as tape:
        rec0 = tf.reduce_sum(model((x, np.zeros_like(eps)), training=True)[:, 0])
    assert np.abs(np.asarray(tape.gradient(rec0, model.to_stats.kernel))[:, 3:]).sum() == 0  # e = 0: no path


def test_the_loss_is_reconstruction_plus_kl():
    model = tiny()
    x = palette_stream(5).indices.astype(np.int32)
    eps = np.zeros((5, 3), np.float32)
    out = np.asarray(model((x, eps)))
    m, lv = model.encode(x)
    logits = model.decode(m)
    logp = tf.nn.log_softmax(logits)
    rec = -np.take_along_axis(np.asarray(logp), x[..., None], -1).sum((1, 2, 3))
    assert np.allclose(out[:, 0], rec, rtol=1e-5)
    assert np.allclose(out[:, 1], np.asarray(VAE.kl_terms(m, lv)).sum(-1), rtol=1e-5)
    loss = model.loss_fn()(np.zeros(5), out)
    assert math.isclose(float(loss), float((out[:, 0] + out[:, 1]).mean()), rel_tol=1e-5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("vae")
    path = train(grey_stream(60), RunConfig(family="vae", epochs=2, batch_size=20, lr=3e-3, model=dict(TINY, arch="mlp")),
                 out, progress=False)
    return models.load(str(path))


def test_iwae_bound_is_above_the_elbo_and_tightens_with_k():
    import keras

    keras.utils.set_random_seed(0)  # the same weights whatever ran before
    model = tiny("vae", grey_stream(), arch="mlp")
    bias = model.to_stats.bias.numpy()
    bias[3:] = 1.5  # a broad q: a poor proposal, so importance sampling has much to gain
    model.to_stats.bias.assign(bias)
    data = grey_stream(100, seed=5)
    r1, r10, r100 = (model.evaluate_stream(data, k=k, seed=3) for k in (1, 10, 100))
    # k = 1 is a one-sample estimate of the ELBO; -log p estimates fall (the bound rises) with k
    assert abs(r1["nll_nats"] - r1["nelbo_nats"]) < 0.05 * r1["nelbo_nats"]
    assert r100["nll_nats"] < r10["nll_nats"] < r1["nll_nats"] and r1["nll_nats"] - r100["nll_nats"] > 0.2
    assert r100["nll_nats"] < r100["nelbo_nats"]
    assert len(r100["kl_per_dim"]) == 3 and abs(sum(r100["kl_per_dim"]) - r100["kl_nats"]) < 1e-3
    assert 0 <= r100["active_units"] <= 3


def test_dynamic_binarization_draws_afresh_each_epoch(trained):
    x = tf.constant(np.full((H, W), 128, np.int32))
    draws = [trained.make_example((x,), tf.constant([e, 7], tf.int64), training=True, flip=False)[0][0] for e in range(3)]
    draws = [np.asarray(d) for d in draws]
    assert set(np.unique(draws[0])) <= {0.0, 1.0}
    assert not np.array_equal(draws[0], draws[1])
    again = np.asarray(trained.make_example((x,), tf.constant([0, 7], tf.int64), training=True, flip=False)[0][0])
    assert np.array_equal(draws[0], again)  # a stateless draw: same key, same pixels
    many = [np.asarray(trained.make_example((x,), tf.constant([e, 1], tf.int64), training=True, flip=False)[0][0]).mean()
            for e in range(40)]
    assert abs(np.mean(many) - 128 / 255) < 0.05


def test_interpolation_ends_are_the_reconstructions(trained):
    data = grey_stream(2, seed=9)
    a, b = data.select(slice(0, 1)), data.select(slice(1, 2))
    strip = trained.interpolate_stream(a, b, 5)
    assert strip.indices.shape == (5, H, W)
    m = trained.encode_stream(data)[0]
    ends = trained.decode_codes(m)
    assert np.array_equal(strip.indices[0], ends.indices[0]) and np.array_equal(strip.indices[-1], ends.indices[1])
    with pytest.raises(GenkitError, match="--steps must be at least 2"):
        trained.interpolate_stream(a, b, 1)


def test_grid_sweeps_two_dimensions_and_fixes_the_rest(trained):
    base = np.float32([0.5, -1.0, 2.0])
    z = trained.grid_codes((2, 0), -3, 3, 4, base)
    assert z.shape == (16, 3)
    assert np.all(z[:, 1] == -1.0)  # the fixed dimension stays fixed
    grid = z.reshape(4, 4, 3)
    assert np.allclose(grid[:, 0, 2], np.linspace(-3, 3, 4)) and np.all(grid[:, :, 2] == grid[:, :1, 2])  # rows: dim 2
    assert np.allclose(grid[0, :, 0], np.linspace(-3, 3, 4)) and np.all(grid[:, :, 0] == grid[:1, :, 0])  # cols: dim 0
    sheet = trained.grid_stream((2, 0), -3, 3, 4)
    assert sheet.indices.shape == (16, H, W) and sheet.meta["cols"] == 4
    at = grey_stream(1, seed=2)
    sheet_at = trained.grid_stream((0, 1), -1, 1, 3, at=at)
    z_at = trained.grid_codes((0, 1), -1, 1, 3, trained.encode_stream(at)[0][0])
    assert np.array_equal(sheet_at.indices, trained.decode_codes(z_at).indices)
    for dims, msg in (((0, 3), "outside the code"), ((1, 1), "two different")):
        with pytest.raises(GenkitError, match=msg):
            trained.grid_stream(dims, -3, 3, 4)


def test_cvae_label_changes_the_output_and_style_keeps_the_code():
    model = tiny("cvae", palette_stream(), classes=3)
    z = np.random.default_rng(0).normal(size=(1, 3)).astype(np.float32)
    a = np.asarray(model.decode(z, np.array([0])))
    b = np.asarray(model.decode(z, np.array([2])))
    assert not np.allclose(a, b)
    image = palette_stream(1)
    styles = model.style_stream(image, [0, 1, 2])
    assert styles.indices.shape == (3, H, W) and list(styles.labels) == [0, 1, 2]
    m = model.encode_stream(image)[0]
    assert np.array_equal(styles.indices, model.decode_codes(np.repeat(m, 3, 0), np.arange(3)).indices)
    two = model.style_stream(palette_stream(2), [1, 2])  # a row per image
    m2 = model.encode_stream(palette_stream(2))[0]
    assert two.indices.shape == (4, H, W) and list(two.labels) == [1, 2, 1, 2]
    assert np.array_equal(two.indices, model.decode_codes(np.repeat(m2, 2, 0), [1, 2, 1, 2]).indices)
    with pytest.raises(GenkitError, match="labels must be 0..2"):
        model.style_stream(image, [5])
    with pytest.raises(GenkitError, match="conditional"):
        tiny("vae").style_stream(image, [0])


def test_ae_has_no_noise_and_no_kl():
    model = tiny("ae")
    x = palette_stream(4).indices.astype(np.int32)
    out0 = np.asarray(model((x, np.zeros((4, 3), np.float32))))
    out1 = np.asarray(model((x, np.ones((4, 3), np.float32) * 5)))
    assert np.allclose(out0, out1) and np.all(out0[:, 1] == 0)


def test_ae_evaluation_is_the_reconstruction_of_the_code_m():
    model = tiny("ae")
    data = palette_stream(6, seed=4)
    x = data.indices.astype(np.int32)
    out = np.asarray(model((x, np.zeros((6, 3), np.float32))))
    score = model.evaluate_stream(data, k=7)
    assert set(score) == {"model", "images", "rec_nats", "bits_per_pixel"} and score["images"] == 6
    assert math.isclose(score["rec_nats"], float(out[:, 0].mean()), rel_tol=1e-5)


def test_the_config_is_the_models_one_source_of_settings():
    from genkit.models.ae.config import AEConfig
    from genkit.models.cvae.config import CVAEConfig

    model = tiny("cvae", classes=3)
    assert model.config == CVAEConfig(latent=3, hidden=16, channels=4, classes=3, likelihood="categorical")
    assert type(tiny("ae")).config_class is AEConfig and not hasattr(tiny("ae").config, "beta")
    # bounds hold whoever builds the model: here from Python, not through gk-train
    pal = palette_stream().palette
    with pytest.raises(GenkitError, match="latent must be at least 1, got 0"):
        models.get("vae")(H, W, pal, latent=0)
    with pytest.raises(GenkitError, match="classes must be at least 2"):
        models.get("cvae")(H, W, pal, classes=1)
    with pytest.raises(GenkitError, match="no setting 'latnet'"):
        models.get("vae")(H, W, pal, latnet=3)
    # an AE's config from before AE had its own settings may carry beta: it is dropped
    old = models.get("ae")(H, W, pal, beta=1.0, **TINY)
    assert old.get_config()["latent"] == 3 and "beta" not in old.get_config()


def test_save_and_load_keep_the_config_and_outputs(tmp_path):
    for family in ("vae", "ae", "cvae"):
        model = tiny(family, grey_stream(), arch="mlp")
        path = models.save(model, tmp_path / f"{family}.keras")
        back = models.load(str(path))
        assert type(back) is type(model) and back.likelihood == "bernoulli" and back.latent == 3
        z = np.ones((2, 3), np.float32)
        assert np.array_equal(model.decode_codes(z, [0, 1]).indices, back.decode_codes(z, [0, 1]).indices)


def test_bad_settings_are_one_line_errors():
    with pytest.raises(GenkitError, match="bernoulli decoder needs grey"):
        tiny(likelihood="bernoulli")
    with pytest.raises(GenkitError, match="arch must be"):
        tiny(arch="transformer")
    with pytest.raises(GenkitError, match="labels up to 2"):
        models.get("cvae").for_stream(palette_stream(), classes=2)
    with pytest.raises(GenkitError, match="needs class labels"):
        models.get("cvae").check_training_data(Stream(indices=np.zeros((2, H, W), np.uint8), palette=grey256()))


def test_shipped_vae_checkpoints_resolve_by_name_and_load():
    for name in ("pokemon-vae", "mnist-vae", "mnist-cvae"):
        path = models.resolve(name)
        assert path.name == f"{name}.keras" and path.is_file()
    assert models.resolve("vae").name == "pokemon-vae.keras"
    net = models.load("mnist-cvae")  # safe mode, no optimizer state
    assert net.conditional and net.likelihood == "bernoulli" and net.latent == 10
    with pytest.raises(GenkitError, match="unknown model 'mnist-nothing' \\(did you mean mnist-"):
        models.resolve("mnist-nothing")
