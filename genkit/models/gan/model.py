"""A generative adversarial network (Goodfellow et al. 2014) with DCGAN's networks (Radford et
al. 2016), trained as the lecture draws it.

The **generator** G maps noise z ~ N(0, I) to an image: dense -> (H/4, W/4, 2c) -> transposed
conv to (H/2, W/2, c) -> transposed conv to (H, W, 1) -> tanh, a grey level in [-1, 1] (batch
norm and ReLU between, no norm at the output). The **discriminator** D maps an image to one
logit, "how real": conv (c) -> conv (2c), both 4x4 with stride 2 and LeakyReLU(0.2), -> dense.

Training alternates, batch by batch (``train_step``):

1. **fix G, update D** (``d_steps`` times, fresh noise each time, the same real batch): real
   images get label 1 and G's images label 0; D's loss per example is
   −log D(x) − log(1 − D(G(z))) = softplus(−l_real) + softplus(l_fake), for logits l.
2. **fix D, update G** to make D say 1, with the non-saturating loss −log D(G(z)) =
   softplus(−l_fake) (Goodfellow's fix: it has strong gradients when D rejects G's images, where
   log(1 − D(G(z))) would be flat).

Each step differentiates with respect to one player's weights only and applies its own Adam, so a
D step leaves G's weights as they were and a G step leaves D's. The per-example losses are
averaged over the **global** batch (``tf.nn.compute_average_loss``), so the gradients the
optimizers sum over replicas are the global batch's mean, under any tf.distribute strategy.
The noise comes from the data pipeline: ``make_example`` draws d_steps + 1 vectors per example
from its stateless (run seed, epoch, example) seed, so a run reproduces.

**Conditional** (``--set classes=N``, a conditional GAN, Mirza & Osindero 2014): G reads the
one-hot label beside z, D reads it as N constant input planes beside the image, and G's images in
a step carry the labels of the real batch, so D judges "a real 3?" rather than "a real digit?".
Samples take the labels 0, 1, ..., N-1 in turn (or ``labels``), so every class is asked for
equally often (an unconditional G drew too many 7s and 9s; whether G draws the digit it is asked
for is what the judge's label histogram shows).

**Which epoch is kept.** A GAN has no likelihood and its two losses chase each other, so the
loop's "loss" here is a realness distance that needs nothing but the data: the squared Fréchet
distance between the grey levels (2x2-pooled, so 196 numbers for a digit) of real images and of
G's images. ``val_loss`` compares the val images with G's images for fixed noise (the val
examples' own, the same every epoch) at the end of the epoch, and ``model.keras`` is the epoch
where that distance is lowest; the training ``loss`` is the same distance between the epoch's
training batches and the images G made for its updates during the epoch. The finer measure,
in a classifier's feature space, is ``evaluate_stream`` (genkit.realness).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops
from keras.src.utils.tracking import no_automatic_dependency_tracking

from ...errors import GenkitError
from ...io import Stream, checked_labels
from ...palettes import grey256, is_grey
from ...quantize import map_to_palette
from .. import register
from ..base import InterpolatesNoise, Trainable, flip_image
from ..capabilities import Evaluates, Realness, Samples
from .config import GANConfig

CONDITIONAL = "a conditional GAN (classes > 0)"


def _shift(x, dy, dx):
    """Each image of x (B, H, W, C) moved by its own (dy, dx) pixels, zeros shifted in."""
    h, w = tf.shape(x)[1], tf.shape(x)[2]
    ys = tf.range(h)[None, :] - dy[:, None]  # (B, H): source row of each output row
    xs = tf.range(w)[None, :] - dx[:, None]
    valid = (((ys >= 0) & (ys < h))[:, :, None] & ((xs >= 0) & (xs < w))[:, None, :])
    rows = tf.gather(x, tf.clip_by_value(ys, 0, h - 1), axis=1, batch_dims=1)
    moved = tf.gather(rows, tf.clip_by_value(xs, 0, w - 1), axis=2, batch_dims=1)
    return moved * tf.cast(valid, x.dtype)[..., None]


class Frechet(keras.metrics.Metric):
    """The squared Fréchet distance between two sets of feature vectors (a, b), accumulated
    batch by batch as counts, sums and sums of outer products (float64); the same formula as
    genkit.realness.frechet, in TensorFlow: |m_a − m_b|² + tr C_a + tr C_b − 2 tr (C_a^½ C_b C_a^½)^½,
    the square roots by eigh with negative round-off clipped to 0."""

    def __init__(self, dim: int, name: str = "frechet", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dim = int(dim)
        z = keras.initializers.Zeros()
        self.n = self.add_variable((2,), z, dtype="float64", name="n")
        self.s = self.add_variable((2, self.dim), z, dtype="float64", name="s")
        self.ss = self.add_variable((2, self.dim, self.dim), z, dtype="float64", name="ss")

    def update_state(self, a, b, sample_weight=None):
        a = tf.cast(tf.reshape(a, [-1, self.dim]), tf.float64)
        b = tf.cast(tf.reshape(b, [-1, self.dim]), tf.float64)
        self.n.assign_add(tf.stack([tf.cast(tf.shape(a)[0], tf.float64), tf.cast(tf.shape(b)[0], tf.float64)]))
        self.s.assign_add(tf.stack([tf.reduce_sum(a, 0), tf.reduce_sum(b, 0)]))
        self.ss.assign_add(tf.stack([tf.matmul(a, a, transpose_a=True), tf.matmul(b, b, transpose_a=True)]))

    def result(self):
        n = tf.maximum(self.n, 2.0)
        mean = self.s / n[:, None]
        cov = (self.ss - n[:, None, None] * mean[:, :, None] * mean[:, None, :]) / (n - 1.0)[:, None, None]
        cov = 0.5 * (cov + tf.transpose(cov, [0, 2, 1]))
        w, v = tf.linalg.eigh(cov[0])
        root = tf.matmul(v * tf.sqrt(tf.maximum(w, 0.0))[None, :], v, transpose_b=True)
        m = root @ cov[1] @ root
        tr = tf.reduce_sum(tf.sqrt(tf.maximum(tf.linalg.eigvalsh(0.5 * (m + tf.transpose(m))), 0.0)))
        d = tf.reduce_sum(tf.square(mean[0] - mean[1])) + tf.linalg.trace(cov[0]) + tf.linalg.trace(cov[1]) - 2.0 * tr
        return tf.cast(tf.maximum(d, 0.0), tf.float32)

    def reset_state(self):
        for v in (self.n, self.s, self.ss):
            v.assign(tf.zeros_like(v))

    def get_config(self):
        return {"dim": self.dim, "name": self.name}


@register("gan")
class GAN(Trainable, Samples, InterpolatesNoise, Evaluates, keras.Model):
    """DCGAN on grey images; ``call(z)`` is the generator (grey levels in [-1, 1], (B, H, W))."""

    config_class = GANConfig  # the settings, their defaults and bounds
    headline = "fd_px"
    headline_unit = "pixel FD"

    def __init__(self, height, width, palette, **settings):
        config, rest = self.config_class.split(settings)
        super().__init__(**rest)
        self.config = config
        self.height, self.width = int(height), int(width)
        self.palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        if self.height % 4 or self.width % 4 or self.height < 4 or self.width < 4:
            raise GenkitError(f"the generator doubles its size twice: image sides must be multiples of 4, "
                              f"got {self.width}x{self.height}")
        self.latent, self.channels, self.d_steps = config.latent, config.channels, config.d_steps
        self.classes = config.classes
        self.beta1, self.norm = config.beta1, config.norm
        # A grey palette is drawn as one grey level, any other as RGB; either in [-1, 1]. What D
        # sees of a real image is its palette colour; G's colours go to the nearest palette entry.
        self.colours = 1 if is_grey(self.palette) else 3
        self.levels = (self.palette[:, : self.colours].astype(np.float32) / 127.5 - 1.0)
        self.generator = self._generator("g")
        # sampling's generator: the moving average of G's weights (Karras et al. 2018; Yazıcı et
        # al. 2019), updated after every G step; G itself when ema is 0
        self.generator_ema = self._generator("ema") if config.ema > 0 else None
        c = self.channels

        def weighted(layer):  # spectral normalisation: Keras' power iteration, one step per training call
            return layers.SpectralNormalization(layer, name=f"{layer.name}_sn") if config.d_norm == "spectral" else layer

        self.discriminator = keras.Sequential(
            [
                weighted(layers.Conv2D(c, 4, strides=2, padding="same", name="d_conv1")),
                layers.LeakyReLU(0.2, name="d_conv1_lrelu"),
                weighted(layers.Conv2D(2 * c, 4, strides=2, padding="same", name="d_conv2")),
                layers.LeakyReLU(0.2, name="d_conv2_lrelu"),
                layers.Flatten(name="d_flat"),
                weighted(layers.Dense(1, name="d_logit")),
            ],
            name="discriminator",
        )
        self._trackers: list = []

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "height": self.height, "width": self.width, "palette": self.palette.tolist(),
                **dataclasses.asdict(self.config)}

    @classmethod
    def from_config(cls, config):
        return cls(**{**cls.config_class.BEFORE, **config})

    def _generator(self, prefix: str) -> keras.Sequential:
        """G's network: dense -> (H/4, W/4, 2c) -> up to (H/2, W/2, c) -> up to (H, W, colours), tanh."""
        h4, w4, c = self.height // 4, self.width // 4, self.channels
        bn = self.norm == "batch"

        def normed(name):
            return [layers.BatchNormalization(synchronized=True, name=f"{name}_bn")] if bn else []

        p = prefix
        return keras.Sequential(
            [
                layers.Dense(h4 * w4 * 2 * c, use_bias=not bn, name=f"{p}_dense"),
                *normed(f"{p}_dense"),
                layers.ReLU(name=f"{p}_dense_relu"),
                layers.Reshape((h4, w4, 2 * c), name=f"{p}_reshape"),
                layers.Conv2DTranspose(c, 4, strides=2, padding="same", use_bias=not bn, name=f"{p}_up1"),
                *normed(f"{p}_up1"),
                layers.ReLU(name=f"{p}_up1_relu"),
                layers.Conv2DTranspose(self.colours, 4, strides=2, padding="same", activation="tanh", name=f"{p}_up2"),
            ],
            name="generator" if p == "g" else "generator_ema",
        )

    # -- the networks ---------------------------------------------------------------------------
    def _with_label(self, z, labels):
        """G's input: z, with the one-hot label beside it when conditional."""
        if not self.classes:
            return z
        return ops.concatenate([z, ops.one_hot(ops.cast(labels, "int32"), self.classes, dtype=z.dtype)], axis=-1)

    def call(self, z, training=False, average=False, labels=None):
        """G(z) in [-1, 1]: grey levels (B, H, W) or RGB (B, H, W, 3); ``average``: the moving
        average of G's weights (sampling's generator); ``labels`` (B,): a conditional G's classes."""
        g = self.generator_ema if average and self.generator_ema is not None else self.generator
        x = g(self._with_label(z, labels), training=training)
        return x[..., 0] if self.colours == 1 else x

    def judge(self, x, training=False, labels=None):
        """D's logit (B,) for images x in [-1, 1], (B, H, W) grey or (B, H, W, 3) RGB; a
        conditional D also reads ``labels`` (B,), as constant one-hot planes beside the image."""
        if self.colours == 1:
            x = ops.expand_dims(x, -1)
        if self.classes:
            planes = ops.one_hot(ops.cast(labels, "int32"), self.classes, dtype=x.dtype)[:, None, None, :]
            x = ops.concatenate([x, planes * ops.ones_like(x[..., :1])], axis=-1)
        return self.discriminator(x, training=training)[:, 0]

    def build(self, input_shape=None):
        self.generator.build((None, self.latent + self.classes))
        if self.generator_ema is not None:
            self.generator_ema.build((None, self.latent + self.classes))
            for a, w in zip(self.generator_ema.weights, self.generator.weights):
                a.assign(w)
        self.discriminator.build((None, self.height, self.width, self.colours + self.classes))

    def update_average(self, z, labels=None) -> None:
        """After a G step: average <- d * average + (1 - d) * G for each trainable weight, with
        d = min(ema, (1 + t) / (10 + t)) after t G steps (a short memory at first, so the average
        does not drag the random start along; the warm-up of TensorFlow's
        ExponentialMovingAverage). Batch norm's moving statistics are not averaged: the averaged
        generator runs on the step's noise in training mode, so its statistics are those of its
        own activations (averaged weights with G's statistics draw worse images)."""
        if self.generator_ema is None:
            return
        t = tf.cast(self.g_optimizer.iterations, tf.float32)
        d = tf.minimum(tf.constant(self.config.ema, tf.float32), (1.0 + t) / (10.0 + t))
        for a, w in zip(self.generator_ema.trainable_weights, self.generator.trainable_weights):
            a.assign(d * a + (1.0 - d) * w)
        if self.norm == "batch":
            self.generator_ema(self._with_label(z, labels), training=True)

    def build_for_data(self) -> None:
        zero = np.zeros((1,), np.int32)
        self.judge(self(np.zeros((1, self.latent), np.float32), labels=zero), labels=zero)

    def pooled(self, x):
        """What the training loop's realness distance compares: grey levels (or RGB) in [0, 1],
        2x2-pooled, flat."""
        x = ops.expand_dims(x, -1) if self.colours == 1 else x
        h = ops.average_pool((x + 1.0) * 0.5, 2, strides=2, padding="valid")
        return ops.reshape(h, (-1, self.pooled_dim))

    @property
    def pooled_dim(self) -> int:
        return (self.height // 2) * (self.width // 2) * self.colours

    def augmented(self, x, seed):
        """DiffAugment (Zhao et al. 2020): the same differentiable random transforms for real and
        fake images before D, so D cannot memorise a few hundred images and G is not taught the
        transforms. colour: brightness, saturation (RGB only), contrast; translation: shift by up
        to 1/8 of the side, zero (mid-grey) fill; cutout: a zeroed square of half the side."""
        policies = self.config.policies
        if not policies:
            return x
        grey = self.colours == 1
        x = ops.expand_dims(x, -1) if grey else x
        b = tf.shape(x)[0]
        h, w = self.height, self.width
        s = [tf.random.experimental.stateless_fold_in(seed, i) for i in range(6)]
        if "color" in policies:
            x = x + (tf.random.stateless_uniform([b, 1, 1, 1], s[0]) - 0.5)
            if not grey:
                m = tf.reduce_mean(x, axis=-1, keepdims=True)
                x = (x - m) * (tf.random.stateless_uniform([b, 1, 1, 1], s[1]) * 2.0) + m
            m = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
            x = (x - m) * (tf.random.stateless_uniform([b, 1, 1, 1], s[2]) + 0.5) + m
        if "translation" in policies:
            ph, pw = max(1, h // 8), max(1, w // 8)
            dy = tf.random.stateless_uniform([b], s[3], -ph, ph + 1, dtype=tf.int32)
            dx = tf.random.stateless_uniform([b], s[4], -pw, pw + 1, dtype=tf.int32)
            x = _shift(x, dy, dx)
        if "cutout" in policies:
            ch, cw = h // 2, w // 2
            cy = tf.random.stateless_uniform([b], s[5], 0, h + (1 - ch % 2), dtype=tf.int32)
            cx = tf.random.stateless_uniform([b], tf.random.experimental.stateless_fold_in(s[5], 1), 0,
                                             w + (1 - cw % 2), dtype=tf.int32)
            ys, xs = tf.range(h)[None, :, None], tf.range(w)[None, None, :]
            inside = ((tf.abs(ys - cy[:, None, None]) <= ch // 2 - 1 + ch % 2)
                      & (tf.abs(xs - cx[:, None, None]) <= cw // 2 - 1 + cw % 2))
            x = x * tf.cast(~inside, x.dtype)[..., None]
        return x[..., 0] if grey else x

    # -- training (genkit.train) --------------------------------------------------------------------
    @classmethod
    def check_training_data(cls, stream: Stream) -> None:
        if not stream.is_palette:
            raise GenkitError("the GAN learns palette images: quantize them first (gk-quantize ... | gk-train gan)")

    @classmethod
    def for_stream(cls, stream: Stream, **config):
        model = super().for_stream(stream, **config)
        if model.classes:  # before the run folder is made
            stream.class_labels(model.classes, CONDITIONAL)
        return model

    def train_arrays(self, stream: Stream) -> tuple:
        if not self.classes:
            return (stream.indices.astype(np.int32),)
        return (stream.indices.astype(np.int32), stream.class_labels(self.classes, CONDITIONAL))

    def make_example(self, rows, seed, *, training, flip):
        """(x, z, a, y): the real image's grey levels in [-1, 1], d_steps + 1 noise vectors (one
        per D step, then G's) and augmentation seeds, all from the example's stateless seed, and
        its label (0 when unconditional)."""
        x = tf.gather(tf.constant(self.levels if self.colours == 3 else self.levels[:, 0]), rows[0])
        if flip:
            x = flip_image(x, seed)
        z = tf.random.stateless_normal([self.d_steps + 1, self.latent], seed=tf.random.experimental.stateless_fold_in(seed, 2))
        # one augmentation seed per D step and G's: drawn per example, folded per batch below
        a = tf.random.stateless_uniform([self.d_steps + 1, 2], seed=tf.random.experimental.stateless_fold_in(seed, 3),
                                        maxval=2**31 - 1, dtype=tf.int32)
        y = tf.cast(rows[1], tf.int32) if self.classes else tf.zeros([], tf.int32)
        return (x, z, a, y), tf.zeros([], tf.float32)

    @no_automatic_dependency_tracking  # as keras.Model.compile: the model is built already
    def compile_for_training(self, lr: float) -> None:
        """Two Adams, one per player, built at once on that player's weights only; the trackers
        (Keras Means, summed over replicas) and the realness distance."""
        self.d_optimizer = keras.optimizers.Adam(lr * self.config.d_lr, beta_1=self.beta1, name="d_adam")
        self.g_optimizer = keras.optimizers.Adam(lr, beta_1=self.beta1, name="g_adam")
        super().compile(optimizer=self.g_optimizer)
        self.build_optimizer_state()
        self._trackers = [Frechet(self.pooled_dim, name="loss")] + [
            keras.metrics.Mean(name=n) for n in ("d_loss", "g_loss", "d_real", "d_fake")]

    def set_learning_rate(self, lr: float) -> None:
        self.d_optimizer.learning_rate.assign(lr * self.config.d_lr)
        self.g_optimizer.learning_rate.assign(lr)

    def build_optimizer_state(self) -> None:
        if not self.d_optimizer.built:
            self.d_optimizer.build(self.discriminator.trainable_variables)
        if not self.g_optimizer.built:
            self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self._trackers)

    def d_step(self, x, z, seed, y=None):
        """Fix G, update D: real -> 1, G(z) -> 0 (both with the real batch's labels ``y`` when
        conditional). Per-example loss (B,) and D's two outputs."""
        fake = self(z, training=True, labels=y)
        d_weights = self.discriminator.trainable_weights
        with tf.GradientTape() as tape:
            real_logit = self.judge(self.augmented(x, seed), training=True, labels=y)
            fake_logit = self.judge(self.augmented(fake, tf.random.experimental.stateless_fold_in(seed, 7)), training=True,
                                    labels=y)
            per = tf.nn.softplus(-real_logit) + tf.nn.softplus(fake_logit)
            loss = tf.nn.compute_average_loss(per)
        self.d_optimizer.apply(tape.gradient(loss, d_weights), d_weights)
        return per, real_logit, fake_logit

    def g_step(self, z, seed, y=None):
        """Fix D, update G to make D say 1 (non-saturating: −log D(G(z))); then G's average."""
        g_weights = self.generator.trainable_weights
        with tf.GradientTape() as tape:
            fake = self(z, training=True, labels=y)
            per = tf.nn.softplus(-self.judge(self.augmented(fake, seed), training=True, labels=y))
            loss = tf.nn.compute_average_loss(per)
        self.g_optimizer.apply(tape.gradient(loss, g_weights), g_weights)
        self.update_average(z, y)
        return per, fake

    def _track(self, real, fake, d_per, g_per, real_logit, fake_logit):
        fd, d_loss, g_loss, d_real, d_fake = self._trackers
        fd.update_state(self.pooled(real), self.pooled(fake))
        d_loss.update_state(d_per)
        g_loss.update_state(g_per)
        d_real.update_state(tf.sigmoid(real_logit))
        d_fake.update_state(tf.sigmoid(fake_logit))
        # The distance is a statistic of the whole epoch (two eighs of a 196x196 matrix): not
        # worth taking after every batch. A step reports G's running loss under its name (the
        # progress bar's "loss"); at the end of an epoch and of validation Keras reads every
        # tracker's own result, since the step's keys are the trackers' names.
        return {"loss": g_loss.result(), **{m.name: m.result() for m in self._trackers[1:]}}

    def train_step(self, data):
        (x, z, a, y), _ = data
        for k in range(self.d_steps):
            d_per, real_logit, fake_logit = self.d_step(x, z[:, k], a[0, k], y)
        g_per, fake = self.g_step(z[:, -1], a[0, -1], y)
        return self._track(x, fake, d_per, g_per, real_logit, fake_logit)

    def test_step(self, data):
        (x, z, _, y), _ = data
        fake = self(z[:, -1], training=False, average=True, labels=y)
        real_logit, fake_logit = self.judge(x, labels=y), self.judge(fake, labels=y)
        d_per = tf.nn.softplus(-real_logit) + tf.nn.softplus(fake_logit)
        return self._track(x, fake, d_per, tf.nn.softplus(-fake_logit), real_logit, fake_logit)

    def report(self, logs: dict) -> dict:
        out = {"fd_px": float(logs["loss"])}
        for key in ("d_loss", "g_loss", "d_real", "d_fake"):
            if key in logs:
                out[key] = float(logs[key])
        return out

    # -- streams out ------------------------------------------------------------------------------
    @tf.function(reduce_retracing=True)
    def _generate(self, z, labels):
        return self(z, training=False, average=True, labels=labels)

    @property
    def draws_labels(self) -> bool:
        """gk-sample --labels: a conditional G draws the classes it is given."""
        return bool(self.classes)

    def sample_labels(self, n: int, labels=None) -> np.ndarray:
        """A conditional G's labels for n images: ``labels`` cycled to n, or 0, 1, 2, ... in turn
        (every class equally often); zeros (unused) when unconditional."""
        if not self.classes:
            if labels is not None:
                raise GenkitError("--labels goes with a conditional GAN (trained with --set classes=N)")
            return np.zeros(n, np.int32)
        if labels is None:
            return (np.arange(n) % self.classes).astype(np.int32)
        labels = checked_labels(labels, self.classes)
        if not labels.size:
            raise GenkitError(f"labels must be 0..{self.classes - 1}")
        return np.resize(labels, n)

    def noise(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        """n noise vectors for a seed: the same seed gives the same vectors, the first k of n
        are those of k (so gk-interp --seed-a S starts at gk-sample --seed S's first image)."""
        if temperature < 0:
            raise GenkitError("--temperature must be >= 0")
        return np.random.default_rng(seed).standard_normal((n, self.latent)).astype(np.float32) * np.float32(temperature)

    def decode(self, z: np.ndarray, batch_size: int = 256, meta: dict | None = None, progress=None,
               labels: np.ndarray | None = None) -> Stream:
        """G's images for noise z (N, latent) (and ``labels`` (N,), a conditional G's), as indices
        on the model's palette: grey levels to the nearest grey, RGB to the nearest colour."""
        z = np.asarray(z, np.float32).reshape(-1, self.latent)
        y = np.zeros(len(z), np.int32) if labels is None else np.asarray(labels, np.int32).reshape(-1)
        out = []
        for i in range(0, len(z), max(1, batch_size)):
            g = ops.convert_to_numpy(self._generate(tf.constant(z[i : i + batch_size]), tf.constant(y[i : i + batch_size])))
            out.append(np.clip(np.rint((g + 1.0) * 127.5), 0, 255).astype(np.uint8))
            if progress:
                progress(len(g))
        meta = dict(meta or {}, model=self.family)
        labels = y.astype(np.int64) if self.classes else None
        if self.colours == 3:  # RGB onto the nearest palette colour (CIEDE2000, as gk-quantize maps)
            rgb = np.concatenate(out) if out else np.zeros((0, self.height, self.width, 3), np.uint8)
            return Stream(indices=map_to_palette(rgb, self.palette), palette=self.palette, meta=meta, labels=labels)
        grey = np.concatenate(out) if out else np.zeros((0, self.height, self.width), np.uint8)
        if np.array_equal(self.palette, grey256()):
            return Stream(indices=grey, palette=grey256(), meta=meta, labels=labels)
        nearest = np.abs(grey[..., None].astype(np.int16) - self.palette[None, None, None, :, 0]).argmin(-1)
        return Stream(indices=nearest.astype(np.uint8), palette=self.palette, meta=meta, labels=labels)

    def sample_stream(self, n: int, *, temperature: float = 1.0, seed: int = 0, batch_size: int = 256,
                      progress=None, labels=None) -> Stream:
        """gk-sample: G's images for n noise vectors z ~ N(0, T²·I) drawn from the seed (a
        conditional G: with :meth:`sample_labels`)."""
        z = self.noise(n, seed, temperature)
        return self.decode(z, batch_size, {"seed": seed, "temperature": temperature}, progress, self.sample_labels(n, labels))

    def walk_stream(self, seed_a: int, seed_b: int, steps: int) -> Stream:
        """gk-interp: G's images at ``steps`` evenly spaced points on the line from z_a to z_b,
        the first noise vectors of the two seeds (both ends included)."""
        if steps < 2:
            raise GenkitError("--steps must be at least 2")
        za, zb = self.noise(1, seed_a)[0], self.noise(1, seed_b)[0]
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        # a conditional G walks with label 0 (that of gk-sample's first image), decode's default
        return self.decode((1 - t) * za + t * zb, meta={"seed_a": seed_a, "seed_b": seed_b, "steps": steps, "cols": steps})

    def evaluate_stream(self, stream: Stream, batch_size: int = 256, *, samples: int = 10_000, seed: int = 0,
                        judge=None, progress=None, k: int | None = None) -> dict:
        """gk-eval: how real G's images look next to the stream's. A GAN has no likelihood;
        this is the squared Fréchet distance between ``samples`` of G's images (seed) and the
        stream's images in the judge's feature space (genkit.realness: for grey images the shipped
        classifier, with the label histogram of the samples and its entropy; for colour images
        fixed random conv features), unless ``judge`` is given."""
        from ... import realness

        if samples < 2:
            raise GenkitError("need at least 2 samples")
        if len(stream) < 2:
            raise GenkitError("need at least 2 images to compare with")
        if judge is None:
            judge = realness.load_judge() if self.colours == 1 else realness.RandomFeatures()
        drawn = self.sample_stream(samples, seed=seed, batch_size=max(batch_size, 256), progress=progress)
        result = realness.compare(judge, drawn, stream)
        return Realness({"model": self.family, "images": len(stream), "seed": seed, **result,
                         "judge": getattr(judge, "checkpoint_path", "classifier")})
