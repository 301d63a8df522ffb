"""The GAN, the classifier that judges it and the Fréchet distance, on tiny models and streams."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from typer.testing import CliRunner

from cli import complete, eval as evaluate, interp, sample, train as train_cli
from genkit import io as gio
from genkit import models, realness
from genkit.color import grey_levels
from genkit.errors import GenkitError
from genkit.io import Stream
from genkit.models.gan.model import Frechet, grey256
from genkit.train import RunConfig, train

H = W = 8
TINY = dict(latent=4, channels=4)
runner = CliRunner()


def digits(n=60, seed=0):
    """Three 'digit' classes on 8x8 grey: a bright row, a bright column, or a bright square."""
    rng = np.random.default_rng(seed)
    idx = (rng.random((n, H, W)) * 30).astype(np.uint8)
    labels = np.arange(n) % 3
    for i, (label, at) in enumerate(zip(labels, rng.integers(1, 6, n))):
        if label == 0:
            idx[i, at, :] = 250
        elif label == 1:
            idx[i, :, at] = 250
        else:
            idx[i, at : at + 2, at : at + 2] = 250
    return Stream(indices=idx, palette=grey256(), labels=labels.astype(np.int64))


def tiny_gan(**cfg):
    model = models.get("gan").for_stream(digits(4), **{**TINY, **cfg})
    model.build_for_data()
    model.compile_for_training(1e-2)
    return model


def batch(model, n=8, seed=0, epoch=0):
    rows = tf.constant(digits(n, seed).indices.astype(np.int32))
    xs, zs, seeds = [], [], []
    for i in range(n):
        (x, z, a, _), _ = model.make_example((rows[i],), tf.constant([epoch, i], tf.int64), training=True, flip=False)
        xs.append(x)
        zs.append(z)
        seeds.append(a)
    return tf.stack(xs), tf.stack(zs), tf.stack(seeds)


def values(variables):
    return [np.array(v) for v in variables]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


# -- the two players ----------------------------------------------------------------------------
def test_a_d_step_leaves_g_unchanged_and_a_g_step_leaves_d_unchanged():
    model = tiny_gan()
    x, z, a = batch(model)
    g0, d0 = values(model.generator.trainable_variables), values(model.discriminator.variables)
    model.d_step(x, z[:, 0], a[0, 0])
    g1, d1 = values(model.generator.trainable_variables), values(model.discriminator.variables)
    assert same(g0, g1)  # G's weights: untouched (its batch-norm running averages saw the fakes)
    assert not same(d0, d1)
    model.g_step(z[:, 1], a[0, 1])
    assert same(d1, values(model.discriminator.variables))
    assert not same(g1, values(model.generator.trainable_variables))
    plain = tiny_gan(norm="none")  # without batch norm, not one of G's variables moves in a D step
    x, z, a = batch(plain)
    g0 = values(plain.generator.variables)
    plain.d_step(x, z[:, 0], a[0, 0])
    assert same(g0, values(plain.generator.variables))


def test_the_losses_are_the_lectures_with_the_non_saturating_generator_loss():
    model = tiny_gan()
    x, z, a = batch(model)
    fake = model(z[:, 0], training=True)
    lr_, lf = np.asarray(model.judge(x, training=True)), np.asarray(model.judge(fake, training=True))
    per, real_logit, fake_logit = model.d_step(x, z[:, 0], a[0, 0])
    sig = lambda v: 1 / (1 + np.exp(-v.astype(np.float64)))  # noqa: E731
    assert np.allclose(real_logit, lr_, atol=1e-5) and np.allclose(fake_logit, lf, atol=1e-5)
    assert np.allclose(per, -np.log(sig(lr_)) - np.log(1 - sig(lf)), atol=1e-4)  # real -> 1, fake -> 0
    g_per, fake = model.g_step(z[:, 1], a[0, 1])
    assert np.allclose(g_per, -np.log(sig(np.asarray(model.judge(fake, training=True)))), atol=1e-2)  # -log D(G(z))


def test_d_steps_each_take_fresh_noise():
    model = tiny_gan(d_steps=3)
    x, z, a = batch(model, 4)
    assert z.shape == (4, 4, 4)  # three D steps and one G step per example
    assert len({tuple(np.round(np.asarray(z[0, k]), 5)) for k in range(4)}) == 4
    logs = model.train_step(((x, z, a, tf.zeros([4], tf.int32)), tf.zeros([4])))
    assert model.d_optimizer.iterations.numpy() == 3 and model.g_optimizer.iterations.numpy() == 1
    assert set(logs) == {"loss", "d_loss", "g_loss", "d_real", "d_fake"}


def test_examples_come_from_the_stateless_seed():
    model = tiny_gan()
    rows = (tf.constant(digits(1).indices[0].astype(np.int32)),)
    (x, z, _, _), _ = model.make_example(rows, tf.constant([3, 7], tf.int64), training=True, flip=False)
    (x2, z2, _, _), _ = model.make_example(rows, tf.constant([3, 7], tf.int64), training=True, flip=False)
    (_, z3, _, _), _ = model.make_example(rows, tf.constant([4, 7], tf.int64), training=True, flip=False)
    assert np.array_equal(z, z2) and not np.array_equal(z, z3)
    assert np.allclose(x, digits(1).indices[0] / 127.5 - 1, atol=1e-6)  # grey levels in [-1, 1]


# -- the moving average, colour, augmentation ------------------------------------------------------
def test_the_moving_average_starts_at_g_and_follows_it_by_its_decay():
    model = tiny_gan(ema=0.5)
    assert same(values(model.generator_ema.weights), values(model.generator.weights))  # starts equal
    x, z, a = batch(model)
    for step in range(3):  # the decay warms up: min(ema, (1 + t) / (10 + t)) after t steps
        before = values(model.generator_ema.trainable_weights)
        stats = values(model.generator_ema.non_trainable_weights)
        model.g_step(z[:, 1], a[0, 1])
        d = min(0.5, (1 + step + 1) / (10 + step + 1))
        after, g = values(model.generator_ema.trainable_weights), values(model.generator.trainable_weights)
        assert not same(stats, values(model.generator_ema.non_trainable_weights))  # its own batch-norm statistics
        assert all(np.allclose(n, d * b + (1 - d) * w, atol=1e-6) for n, b, w in zip(after, before, g))
    assert not same(after, g)
    plain = tiny_gan(ema=0.0)  # no average: samples come from G itself
    assert plain.generator_ema is None
    z0 = plain.noise(3, 1)
    assert np.array_equal(np.asarray(plain(z0, average=True)), np.asarray(plain(z0)))


def test_a_checkpoint_from_before_the_average_loads_without_one(tmp_path):
    model = tiny_gan(ema=0.0)
    cfg = model.get_config()
    del cfg["ema"]  # what checkpoints saved before the setting existed hold
    assert models.get("gan").from_config(cfg).generator_ema is None
    assert models.get("gan").from_config({**cfg, "ema": 0.99}).generator_ema is not None


def colour_sprites(n=8, seed=0):
    """Tiny colour 'sprites' on a 4-colour palette: a coloured square on white."""
    rng = np.random.default_rng(seed)
    idx = np.zeros((n, H, W), np.uint8)
    for i in range(n):
        y, x = rng.integers(0, H - 3, 2)
        idx[i, y : y + 3, x : x + 3] = rng.integers(1, 4)
    palette = np.array([[255, 255, 255], [200, 30, 30], [30, 160, 40], [20, 40, 200]], np.uint8)
    return Stream(indices=idx, palette=palette)


def test_a_colour_gan_sees_rgb_and_draws_on_its_palette(tmp_path):
    stream = colour_sprites()
    model = models.get("gan").for_stream(stream, **{**TINY, "augment": "color,translation,cutout"})
    model.build_for_data()
    model.compile_for_training(1e-2)
    assert model.colours == 3
    rows = tf.constant(stream.indices.astype(np.int32))
    (x, z, a, _), _ = model.make_example((rows[0],), tf.constant([0, 0], tf.int64), training=True, flip=False)
    assert x.shape == (H, W, 3) and np.allclose(x, stream.palette[stream.indices[0]] / 127.5 - 1, atol=1e-6)
    xs = tf.stack([x] * 4)
    model.train_step(((xs, tf.stack([z] * 4), tf.stack([a] * 4), tf.zeros([4], tf.int32)), tf.zeros([4])))
    out = model.sample_stream(6, seed=2)
    assert np.array_equal(out.palette, stream.palette) and out.indices.shape == (6, H, W)
    assert out.indices.max() < 4
    path = models.save(model, tmp_path / "colour-gan.keras", optimizer=False)
    assert np.array_equal(models.load(str(path)).sample_stream(6, seed=2).indices, out.indices)


def test_diffaugment_is_seeded_shape_keeping_and_differentiable():
    model = tiny_gan(augment="translation,cutout")
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, H, W)).astype(np.float32))
    seed = tf.constant([1, 2], tf.int32)
    y = model.augmented(x, seed)
    assert y.shape == x.shape and np.array_equal(y, model.augmented(x, seed))
    assert not np.array_equal(y, model.augmented(x, tf.constant([1, 3], tf.int32)))
    zeros = np.mean(np.asarray(y) == 0, axis=(1, 2))
    assert (zeros > 0).all()  # a square cut out of each (partly off the edge at times) and the shifted-in zeros
    with tf.GradientTape() as tape:
        tape.watch(x)
        s = tf.reduce_sum(model.augmented(x, seed))
    assert np.abs(np.asarray(tape.gradient(s, x))).sum() > 0
    assert np.array_equal(tiny_gan().augmented(x, seed), x)  # none: D sees the images as they are


def test_shift_moves_each_image_by_its_own_offset():
    from genkit.models.gan.model import _shift

    x = tf.reshape(tf.range(2 * 4 * 4, dtype=tf.float32) + 1, (2, 4, 4, 1))
    y = np.asarray(_shift(x, tf.constant([1, 0]), tf.constant([0, -1])))[..., 0]
    assert np.array_equal(y[0, 1:], np.asarray(x)[0, :3, :, 0]) and (y[0, 0] == 0).all()  # down one row
    assert np.array_equal(y[1, :, :3], np.asarray(x)[1, :, 1:, 0]) and (y[1, :, 3] == 0).all()  # left one column


# -- samples --------------------------------------------------------------------------------------
def test_samples_shapes_ranges_and_seeds():
    model = tiny_gan()
    out = model.sample_stream(5, seed=3)
    assert out.indices.shape == (5, H, W) and out.indices.dtype == np.uint8
    assert np.array_equal(out.palette, grey256()) and out.meta["model"] == "gan"
    g = np.asarray(model(model.noise(5, 3), average=True))  # samples come from G's moving average
    assert g.min() >= -1 and g.max() <= 1
    assert np.array_equal(out.indices, np.clip(np.rint((g + 1) * 127.5), 0, 255).astype(np.uint8))
    assert np.array_equal(model.sample_stream(5, seed=3, batch_size=2).indices, out.indices)
    assert np.array_equal(model.sample_stream(2, seed=3).indices, out.indices[:2])  # the first k of n
    assert not np.array_equal(model.sample_stream(5, seed=4).indices, out.indices)
    flat = model.sample_stream(3, temperature=0).indices
    assert np.array_equal(flat[0], flat[1]) and np.array_equal(flat[0], flat[2])
    walk = model.walk_stream(3, 9, 4)
    assert walk.indices.shape == (4, H, W) and walk.meta["cols"] == 4
    assert np.array_equal(walk.indices[0], out.indices[0])  # the walk starts at --seed-a's first sample
    assert np.array_equal(walk.indices[-1], model.sample_stream(1, seed=9).indices[0])
    with pytest.raises(GenkitError, match="--steps must be at least 2"):
        model.walk_stream(1, 2, 1)


def test_save_and_load_keep_the_samples_without_optimizer_state(tmp_path):
    model = tiny_gan()
    x, z, a = batch(model)
    model.train_step(((x, z, a, tf.zeros([8], tf.int32)), tf.zeros([8])))
    path = models.save(model, tmp_path / "gan.keras", optimizer=False)
    back = models.load(str(path))
    assert type(back) is type(model) and back.latent == 4 and back.norm == "batch"
    assert np.array_equal(back.sample_stream(4, seed=1).indices, model.sample_stream(4, seed=1).indices)
    with_opt = models.save(model, tmp_path / "last.keras")
    assert with_opt.stat().st_size > path.stat().st_size


def test_spectral_normalisation_holds_d_to_norm_one_and_survives_a_save(tmp_path):
    model = tiny_gan(d_norm="spectral")
    x, z, a = batch(model)
    for _ in range(3):
        model.train_step(((x, z, a, tf.zeros([8], tf.int32)), tf.zeros([8])))
    for layer in model.discriminator.layers:
        if isinstance(layer, keras.layers.SpectralNormalization):  # power iteration: close to 1 after a few steps
            kernel = np.asarray(layer.kernel).reshape(-1, np.asarray(layer.kernel).shape[-1])
            assert abs(np.linalg.svd(kernel, compute_uv=False)[0] - 1.0) < 0.2
    assert sum(isinstance(x, keras.layers.SpectralNormalization) for x in model.discriminator.layers) == 3
    back = models.load(str(models.save(model, tmp_path / "sn.keras", optimizer=False)))
    assert back.config.d_norm == "spectral"
    assert np.array_equal(back.sample_stream(4, seed=1).indices, model.sample_stream(4, seed=1).indices)
    assert np.allclose(np.asarray(back.judge(x)), np.asarray(model.judge(x)), atol=1e-5)


def test_training_keeps_the_best_epoch_by_the_val_distance_and_resumes_exactly(tmp_path):
    out = train(digits(40), RunConfig(family="gan", epochs=2, batch_size=16, lr=2e-3, seed=5, model=TINY), tmp_path,
                progress=False)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    rows = metrics["epochs"]
    assert metrics["headline"] == "fd_px" and {"val_d_real", "train_g_loss"} <= set(rows[0])
    # the epoch's loss is the distance (Keras reads the trackers at the end), not G's loss the steps show
    assert all(r["train_loss"] == r["train_fd_px"] and r["train_loss"] != r["train_g_loss"] for r in rows)
    assert metrics["best_epoch"] == min(rows, key=lambda r: r["val_loss"])["epoch"]
    assert out.name == "model.keras"
    # one epoch, then --resume for the second: both players' Adam states come back from last.keras
    run = RunConfig(family="gan", epochs=1, batch_size=16, lr=2e-3, seed=5, model=TINY)
    train(digits(40), run, tmp_path / "resumed", progress=False)
    train(digits(40), RunConfig(**{**run.__dict__, "epochs": 2}), tmp_path / "resumed", progress=False, resume=True)
    straight = models.load(str(tmp_path / "last.keras")).get_weights()
    assert same(straight, models.load(str(tmp_path / "resumed" / "last.keras")).get_weights())


def test_a_seeded_step_reproduces():
    import keras

    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(5)
        model = tiny_gan()
        x, z, a = batch(model, seed=2, epoch=1)
        model.train_step(((x, z, a, tf.zeros([8], tf.int32)), tf.zeros([8])))
        weights.append(values(model.weights))
    assert same(*weights)


# -- the distance and the judge ----------------------------------------------------------------------
def test_frechet_of_a_set_with_itself_is_zero_and_grows_with_noise():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 6)) @ rng.normal(size=(6, 6))
    assert realness.frechet_features(a, a) < 1e-8
    d = [realness.frechet_features(a, a + s * rng.normal(size=a.shape)) for s in (0.1, 0.5, 1.0, 2.0)]
    assert 0 < d[0] < d[1] < d[2] < d[3]
    # two 1-D Gaussians: (m1 - m2)^2 + (s1 - s2)^2
    assert math.isclose(realness.frechet([1.0], [[4.0]], [-1.0], [[1.0]]), 4 + 1, rel_tol=1e-9)
    # commuting covariances: |m1 - m2|^2 + |sqrt(c1) - sqrt(c2)|_F^2
    c1, c2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    assert math.isclose(realness.frechet(np.zeros(3), c1, np.ones(3), c2), 3 + 1 + 0 + 4, rel_tol=1e-9)
    # rank-deficient covariances (fewer samples than dimensions) stay finite and >= 0
    assert realness.frechet_features(a[:3, :], a[3:6, :]) >= 0


def test_the_training_metric_is_the_same_distance():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 5)), rng.normal(0.3, 1.5, size=(300, 5))
    metric = Frechet(5)
    for i in range(0, 300, 64):  # accumulated batch by batch
        metric.update_state(a[i : i + 64], b[i : i + 64])
    assert math.isclose(float(metric.result()), realness.frechet_features(a, b), rel_tol=1e-4)


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    out = tmp_path_factory.mktemp("judge")
    path = train(digits(200), RunConfig(family="classifier", epochs=4, batch_size=20, lr=3e-3, seed=0,
                                        model=dict(channels=4, hidden=16, dropout=0.0, classes=0)), out, progress=False)
    return models.load(str(path))


def test_the_classifier_beats_chance_on_a_tiny_problem(judge):
    result = judge.evaluate_stream(digits(90, seed=7))
    assert result["accuracy"] > 0.6 and result["images"] == 90  # chance: 1/3
    assert judge.classes == 3 and judge.family == "classifier"
    feats, labels = judge.features_and_labels(grey_levels(digits(5), H, W))
    assert feats.shape == (5, 16) and labels.shape == (5,)
    with pytest.raises(GenkitError, match="draws no images"):
        judge.sample_stream(4)


def test_realness_of_real_digits_beats_noise_and_the_histogram_shows_collapse(judge):
    ref, same_kind = digits(300, seed=1), digits(300, seed=2)
    noise = Stream(indices=np.random.default_rng(0).integers(0, 256, (300, H, W)).astype(np.uint8), palette=grey256())
    real = realness.compare(judge, same_kind, ref)
    fake = realness.compare(judge, noise, ref)
    assert real["frechet"] < fake["frechet"]
    assert sum(real["histogram"]) == 300 and real["label_entropy"] > 0.9 * math.log(3)
    collapsed = digits(300, seed=2).select(np.arange(300) % 3 == 0)  # one class only
    assert realness.compare(judge, collapsed, ref)["label_entropy"] < 0.5 * real["label_entropy"]
    result = tiny_gan().evaluate_stream(ref, samples=50, judge=judge)
    assert result["samples"] == 50 and result["images"] == 300 and result["frechet"] >= 0
    assert math.isclose(result["max_entropy"], math.log(3))


# -- the commands ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gan_file(tmp_path_factory):
    model = tiny_gan()
    return models.save(model, tmp_path_factory.mktemp("gan") / "gan.keras", optimizer=False)


def test_sample_and_walk_commands(gan_file):
    out = runner.invoke(sample.app, [str(gan_file), "-n", "4", "--seed", "3", "-f", "npz"])
    assert out.exit_code == 0, out.output
    drawn = gio.decode(out.stdout_bytes)
    assert drawn.indices.shape == (4, H, W)
    walk = runner.invoke(interp.app, [str(gan_file), "--seed-a", "3", "--seed-b", "4", "--steps", "5", "-f", "npz"])
    assert walk.exit_code == 0, walk.output
    strip = gio.decode(walk.stdout_bytes)
    assert strip.indices.shape == (5, H, W) and np.array_equal(strip.indices[0], drawn.indices[0])
    png = runner.invoke(sample.app, [str(gan_file), "-n", "4"])
    assert png.exit_code == 0 and png.stdout_bytes.startswith(b"\x89PNG")


def test_eval_prints_the_realness(gan_file, judge, tmp_path, monkeypatch):
    models.save(judge, tmp_path / "mnist-classifier.keras", optimizer=False)
    monkeypatch.setattr(models, "CHECKPOINT_DIR", tmp_path)
    out = runner.invoke(evaluate.app, [str(gan_file), "-", "--json"], input=digits(40).to_npz())
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["images"] == 40 and result["samples"] == 10_000 and len(result["histogram"]) == 3
    line = runner.invoke(evaluate.app, [str(gan_file), "-"], input=digits(40).to_npz())
    assert line.exit_code == 0 and "Fréchet" in line.stdout and line.stdout.count("\n") == 1
    acc = runner.invoke(evaluate.app, [str(tmp_path / "mnist-classifier.keras"), "-"], input=digits(30).to_npz())
    assert acc.exit_code == 0 and "accuracy" in acc.stdout


@pytest.mark.parametrize(
    "app, args, stdin, msg",
    [
        (interp.app, ["{gan}", "--seed-a", "1"], None, "give --seed-a and --seed-b"),
        (interp.app, ["{gan}", "--seed-b", "1"], None, "give --seed-a and --seed-b"),
        (interp.app, ["{gan}", "{img}", "{img}", "--seed-a", "1", "--seed-b", "2"], None, "no images"),
        (interp.app, ["{gan}", "--seed-a", "1", "--seed-b", "2", "--steps", "1"], None, "--steps must be 2 to 1,000"),
        (complete.app, ["{gan}", "{img}"], None, "needs a pixel model"),
        (sample.app, ["{gan}", "--grid", "0,1"], None, "need a model with a code"),
        (sample.app, ["{gan}", "-t", "-1"], None, "--temperature must be >= 0"),
        (sample.app, ["{judge}"], None, "needs a model that draws samples (pixelrnn, pixelcnn"),
        (evaluate.app, ["{gan}", "-"], "one", "need at least 2 images"),
        (evaluate.app, ["{judge}", "-"], "unlabelled", "needs labelled images"),
        (train_cli.app, ["gan", "--set", "augment=flip", "-q"], "colour", "augment must be none or a comma list"),
        (train_cli.app, ["gan", "--set", "d_steps=0", "-q"], "digits", "d_steps must be at least 1"),
        (train_cli.app, ["classifier", "-q"], "unlabelled", "needs class labels"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(gan_file, judge, tmp_path, app, args, stdin, msg):
    judge_file = models.save(judge, tmp_path / "judge.keras", optimizer=False)
    (tmp_path / "img.png").write_bytes(gio.encode_png(digits(1)))
    subs = {"{gan}": gan_file, "{judge}": judge_file, "{img}": tmp_path / "img.png"}
    args = [str(subs.get(a, a)) for a in args]
    colour = Stream(indices=np.zeros((40, H, W), np.uint8), palette=np.array([[255, 0, 0], [0, 0, 255]], np.uint8))
    data = {None: None, "one": digits(1).to_npz(), "digits": digits(40).to_npz(), "colour": colour.to_npz(),
            "unlabelled": Stream(indices=digits(40).indices, palette=grey256()).to_npz()}[stdin]
    target = tmp_path / "out.png"
    writes = app in (interp.app, complete.app, sample.app)
    result = runner.invoke(app, [*args, *(["-o", str(target)] if writes else []),
                                 *(["-o", str(tmp_path / "run")] if app is train_cli.app else [])], input=data)
    assert result.exit_code == 2, result.output
    assert msg in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and result.stdout == ""
    # (a bad --set leaves gk-train's empty run folder behind: genkit.train makes it before the model)
    assert not target.exists() and not any((tmp_path / "run").glob("*"))


def test_quantized_colour_sprites_piped_into_gk_train_gan_train_and_evaluate(tmp_path):
    """`gk-quantize sprites/ --crop 20 | gk-train gan`: a colour palette stream on stdin trains a GAN
    whose samples are on that palette, and gk-eval judges it with random conv features."""
    stream = colour_sprites(40)
    run = tmp_path / "run"
    done = runner.invoke(train_cli.app, ["gan", "--epochs", "1", "--batch-size", "8", "--set", "latent=4", "--set", "channels=4",
                                         "--set", "augment=translation,cutout", "-o", str(run), "-q"], input=stream.to_npz())
    assert done.exit_code == 0, done.output
    drawn = runner.invoke(sample.app, [str(run / "model.keras"), "-n", "3", "-f", "npz", "-o", str(tmp_path / "s.npz")])
    assert drawn.exit_code == 0, drawn.output
    out = Stream.from_npz((tmp_path / "s.npz").read_bytes())
    assert np.array_equal(out.palette, stream.palette) and out.indices.shape == (3, H, W)
    judged = runner.invoke(evaluate.app, [str(run / "model.keras"), "-", "--json"], input=stream.to_npz())
    assert judged.exit_code == 0, judged.output
    report = json.loads(judged.stdout.strip().splitlines()[-1])
    assert report["frechet"] > 0 and "random conv features" in report["judge"] and "label_entropy" not in report


# -- conditional (--set classes=N) ------------------------------------------------------------------
def test_a_conditional_gan_reads_the_label_in_both_players_and_draws_each_class_in_turn(tmp_path):
    model = tiny_gan(classes=3, norm="none")
    rows = (tf.constant(digits(1).indices[0].astype(np.int32)), tf.constant(2, tf.int32))
    (x, z, a, y), _ = model.make_example(rows, tf.constant([0, 0], tf.int64), training=True, flip=False)
    assert int(y) == 2  # the example carries its label
    z = z[None, 0]
    g = [np.asarray(model(z, labels=np.array([c]))) for c in range(3)]
    assert not np.allclose(g[0], g[1]) and not np.allclose(g[1], g[2])  # G hears the label
    d = [float(model.judge(g[0], labels=np.array([c]))[0]) for c in range(3)]
    assert len({round(v, 6) for v in d}) == 3  # so does D
    out = model.sample_stream(7, seed=0)
    assert list(out.labels) == [0, 1, 2, 0, 1, 2, 0]
    threes = model.sample_stream(4, seed=0, labels=[1, 2])
    assert list(threes.labels) == [1, 2, 1, 2]
    assert np.array_equal(threes.indices[0], model.decode(model.noise(1, 0), labels=np.array([1])).indices[0])
    with pytest.raises(GenkitError, match="labels must be 0..2"):
        model.sample_stream(2, labels=[3])
    with pytest.raises(GenkitError, match="goes with a conditional GAN"):
        tiny_gan().sample_stream(2, labels=[1])
    back = models.load(str(models.save(model, tmp_path / "cgan.keras", optimizer=False)))
    assert back.classes == 3 and np.array_equal(back.sample_stream(5, seed=2).indices, model.sample_stream(5, seed=2).indices)


def test_a_conditional_gan_trains_on_labelled_data_and_gk_sample_takes_labels(tmp_path):
    run = RunConfig(family="gan", epochs=1, batch_size=10, lr=1e-3, model={**TINY, "classes": 3})
    path = train(digits(60), run, tmp_path / "run", progress=False)
    data = tmp_path / "unlabelled.npz"
    gio.write_stream(Stream(indices=digits(20).indices, palette=grey256()), str(data), "npz")
    refused = runner.invoke(train_cli.app, ["gan", "--data", str(data), "--set", "classes=3", "--epochs", "1",
                                            "-o", str(tmp_path / "nolabels"), "-q"])
    assert refused.exit_code == 2 and "needs class labels" in refused.output
    assert not (tmp_path / "nolabels").exists()  # refused before the run folder is made
    drawn = runner.invoke(sample.app, [str(path), "-n", "4", "--labels", "2", "-f", "npz"])
    assert drawn.exit_code == 0, drawn.output
    assert list(Stream.from_npz(drawn.stdout_bytes).labels) == [2, 2, 2, 2]
    plain = train(digits(60), RunConfig(family="gan", epochs=1, batch_size=10, lr=1e-3, model=TINY), tmp_path / "plain",
                  progress=False)
    refused = runner.invoke(sample.app, [str(plain), "-n", "4", "--labels", "2", "-f", "npz"])
    assert refused.exit_code == 2 and "\n" not in refused.output.strip()
