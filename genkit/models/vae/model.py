"""The variational autoencoder (Kingma & Welling 2014), as the lecture draws it.

The encoder maps an image x to m and σ, where σ is the **log-variance** of each code
dimension. The code is c = m + exp(σ/2)·e with e ~ N(0, I) (the reparameterisation, so the
gradient flows through m and σ), the decoder maps c back to a distribution over images, and the
loss per image is

    −log p(x | c)  +  ½ Σ_i (exp(σ_i) − (1 + σ_i) + m_i²)

i.e. reconstruction plus KL(q(c|x) ‖ N(0, I)): the negative ELBO, in nats. The lecture writes the
KL term as Σ(exp(σ_i) − (1 + σ_i) + m_i²) with exp(σ) as the scale: that σ is our σ/2 (a
log-standard-deviation), and its sum is twice the KL with σ read that way — the same minimiser,
a different weight. Here σ is the log-variance and the ½ is kept, so the loss is the true
negative ELBO and test numbers compare with published ones.

Decoder likelihoods: a categorical over the palette at each pixel (the 1-of-N coding of the pixel
models) for palette-coded images, or a Bernoulli per pixel for binary images (MNIST, binarized
dynamically: each epoch draws every pixel afresh with its grey level as the probability).

An autoregressive pixel head (``--set pixel_head=C``, Bernoulli decoders only; after Gulrajani et
al.'s PixelVAE with one masked layer): the decoder's logit of pixel i is corrected by a small
network of the pixels above and to the left of it (3 rows above, 3 columns each side; 3 to the
left in its own row), h_i = relu(W_m · relu(A · x_<i)) with C channels, and the code meets it in
``head_code`` = E products with features f_i(z) that the decoder gives pixel i:

    logit_i = d_i(z) + w · h_i + Σ_e f_ie(z) · (g_e · h_i)

The code carries the digit's shape; the head, the local stroke detail that is costly to code in z.
h depends on the image alone, so the likelihood with k codes per image computes it once per image.
Training and the likelihood score x_<i as given (teacher forcing), so they stay one pass; pictures
are drawn pixel by pixel (:meth:`VAE._raster`).

Inputs are (x, e) — the noise comes from the data pipeline, drawn from a stateless seed per
(run seed, epoch, image), so a run reproduces under any tf.distribute strategy. The model's
output is (B, 2): reconstruction and KL nats per image; the loss weights the KL by ``beta``.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from ...color import srgb_to_lab
from ...errors import GenkitError
from ...io import Stream
from ...palettes import grey256, is_grey
from .. import iwae, register
from ..base import LN2, InterpolatesImages, ReadsImages, Trainable, flip_image
from ..capabilities import Evaluates, ImageIWAE, Samples, SweepsCode
from . import decoding
from .config import VAEConfig

HEAD_ROWS = 3  # rows above pixel i that the pixel head sees
HEAD_COLS = 3  # columns on each side of pixel i (above), and to its left (its own row)


class ELBOLoss(keras.losses.Loss):
    """Per image: reconstruction + beta * max(KL, kl_floor), from the model's (B, 2) output. The
    floor is free bits (Kingma et al. 2016), counted per image: up to kl_floor nats of code cost
    nothing, so a strong decoder (a pixel head) cannot make the code worthless by ignoring it."""

    def __init__(self, beta: float = 1.0, kl_floor: float = 0.0, **kwargs):
        super().__init__(name="elbo", **kwargs)
        self.beta, self.kl_floor = float(beta), float(kl_floor)

    def call(self, y_true, y_pred):
        kl = y_pred[:, 1] if self.kl_floor <= 0 else ops.maximum(y_pred[:, 1], self.kl_floor)
        return y_pred[:, 0] + self.beta * kl


class IWAELoss(keras.losses.Loss):
    """Per image: the negative IWAE bound, the third column of the model's (B, 3) output when it
    trains with K > 1 importance samples."""

    def __init__(self, **kwargs):
        super().__init__(name="iwae", **kwargs)

    def call(self, y_true, y_pred):
        return y_pred[:, 2]


def _one(reps) -> bool:
    """Whether ``reps`` (an int, or a tensor inside a traced function) is the plain int 1."""
    return isinstance(reps, int) and reps == 1


def rec_nats(y_true, y_pred):
    return y_pred[:, 0]


def kl_nats(y_true, y_pred):
    return y_pred[:, 1]


@register("vae")
class VAE(ReadsImages, Trainable, Samples, SweepsCode, InterpolatesImages, Evaluates, keras.Model):
    """Encoder -> (m, σ) -> c = m + exp(σ/2)·e -> decoder, on palette-coded images.

    The AE (genkit.models.ae) overrides ``code`` and ``kl`` (c = m, no KL term); the CVAE
    (genkit.models.cvae) overrides ``condition`` and the label hooks (``labels_of`` ...)."""

    conditional = False  # the CVAE's encoder and decoder also see the class label
    config_class = VAEConfig  # the settings, their defaults and bounds
    headline = "nelbo"
    headline_unit = "nats/image"
    default_k = 1000  # importance samples per image for gk-eval's IWAE bound
    decodings = decoding.DECODINGS  # what --decode takes (genkit.models.vae.decoding)

    def __init__(self, height, width, palette, **settings):
        config, rest = self.config_class.split(self._take_input_prep(settings))
        super().__init__(**rest)
        self.height, self.width = int(height), int(width)
        self.palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        self.num_colors = len(self.palette)
        likelihood = config.likelihood
        if likelihood == "auto":
            likelihood = "bernoulli" if is_grey(self.palette) else "categorical"
        if likelihood == "bernoulli" and not is_grey(self.palette):
            raise GenkitError("a bernoulli decoder needs grey images (a grey palette); use likelihood=categorical")
        self.config = dataclasses.replace(config, likelihood=likelihood)
        self.latent, self.hidden, self.channels = config.latent, config.hidden, config.channels
        self.arch, self.likelihood = config.arch, likelihood
        hidden, channels, arch = self.hidden, self.channels, self.arch
        self.bernoulli = likelihood == "bernoulli"
        self.pixel_head = int(getattr(config, "pixel_head", 0))
        self.head_code = int(getattr(config, "head_code", 0)) if self.pixel_head else 0
        if self.pixel_head and not self.bernoulli:
            raise GenkitError("pixel_head needs a bernoulli decoder (grey images such as --dataset mnist)")
        # grey level of each palette index as an ink probability (bernoulli only)
        self.intensity = (self.palette[:, 0].astype(np.float32) / 255.0) if self.bernoulli else None
        out = (1 + self.head_code) if self.pixel_head else 1 if self.bernoulli else self.num_colors
        h4, w4 = -(-self.height // 4), -(-self.width // 4)
        act = "relu"
        if self.bernoulli:
            self.embed = None
        else:
            self.embed = layers.Embedding(self.num_colors, 8, name="embed")
        if arch == "conv":
            self.enc = [
                layers.Conv2D(channels, 3, strides=2, padding="same", activation=act, name="enc_conv1"),
                layers.Conv2D(2 * channels, 3, strides=2, padding="same", activation=act, name="enc_conv2"),
                layers.Flatten(name="enc_flat"),
            ]
            self.enc_dense = [layers.Dense(hidden, activation=act, name="enc_dense")]
            self.dec = [
                layers.Dense(hidden, activation=act, name="dec_dense"),
                layers.Dense(h4 * w4 * 2 * channels, activation=act, name="dec_grow"),
                layers.Reshape((h4, w4, 2 * channels), name="dec_reshape"),
                layers.Conv2DTranspose(2 * channels, 4, strides=2, padding="same", activation=act, name="dec_up1"),
                layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation=act, name="dec_up2"),
                layers.Cropping2D(((0, 4 * h4 - self.height), (0, 4 * w4 - self.width)), name="dec_crop"),
                layers.Conv2D(out, 1, name="dec_out"),
            ]
        else:
            self.enc = [layers.Flatten(name="enc_flat")]
            self.enc_dense = [layers.Dense(hidden, activation=act, name="enc_dense1"),
                              layers.Dense(hidden, activation=act, name="enc_dense2")]
            self.dec = [
                layers.Dense(hidden, activation=act, name="dec_dense1"),
                layers.Dense(hidden, activation=act, name="dec_dense2"),
                layers.Dense(self.height * self.width * out, name="dec_out"),
                layers.Reshape((self.height, self.width, out), name="dec_reshape"),
            ]
        self.to_stats = layers.Dense(2 * self.latent, name="stats")
        if self.pixel_head:
            c = self.pixel_head
            self.head_above = layers.Conv2D(c, (HEAD_ROWS, 2 * HEAD_COLS + 1), name="head_above")
            self.head_left = layers.Conv2D(c, (1, HEAD_COLS), use_bias=False, name="head_left")
            self.head_mid = layers.Dense(c, activation=act, name="head_mid")
            self.head_out = layers.Dense(1, name="head_out")
            self.head_gain = layers.Dense(self.head_code, name="head_gain") if self.head_code else None

    # -- config ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "height": self.height, "width": self.width, "palette": self.palette.tolist(),
                **dataclasses.asdict(self.config), **self._input_prep_config()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # -- the networks -----------------------------------------------------------------------
    def condition(self, h, label):
        """What the dense layers of the encoder and the decoder read: the features h (the CVAE
        adds the label)."""
        return h

    def encode(self, x, label=None, training=False):
        """(m, σ) of images x: palette indices (B, H, W) int, or ink (B, H, W) in [0, 1]."""
        if self.bernoulli:
            h = ops.expand_dims(ops.cast(x, "float32"), -1)
        else:
            h = self.embed(ops.cast(x, "int32"))
        for layer in self.enc:
            h = layer(h)
        h = self.condition(h, label)
        for layer in self.enc_dense:
            h = layer(h)
        stats = self.to_stats(h)
        return stats[:, : self.latent], stats[:, self.latent :]

    def decode(self, z, label=None):
        """Logits of p(x | z): (B, H, W, K) categorical, or (B, H, W) Bernoulli. With a pixel head,
        (B, H, W, 1 + head_code): the code's logit and its features for the head (:meth:`head_logits`)."""
        h = self.condition(z, label)
        for layer in self.dec:
            h = layer(h)
        return h[..., 0] if self.bernoulli and not self.pixel_head else h

    def head_logits(self, x, dec, reps: int = 1):
        """Bernoulli logits (B·reps, H, W) of the pixel head for ink x (B, H, W) (pixel i reads x_<i
        only) and the decoder's output ``dec`` (B·reps, H, W, 1 + head_code): ``reps`` codes per
        image, image-major (the IWAE bound's draws), so the context of each image is computed once."""
        x = ops.expand_dims(ops.cast(x, "float32"), -1)
        r, p = HEAD_ROWS, HEAD_COLS
        # output row i of a valid (r, 2p+1) conv over x padded by r rows on top sees rows i-r..i-1
        above = self.head_above(ops.pad(x, [[0, 0], [r, 0], [p, p], [0, 0]]))[:, : self.height]
        # output column j of a valid (1, p) conv over x padded by p columns on the left sees j-p..j-1
        left = self.head_left(ops.pad(x, [[0, 0], [0, 0], [p, 0], [0, 0]]))[:, :, : self.width]
        h = self.head_mid(ops.relu(above + left))
        out = self.head_out(h)[..., 0]
        gain = None if self.head_gain is None else self.head_gain(h)
        if not _one(reps):
            out = ops.repeat(out, reps, axis=0)
            gain = None if gain is None else ops.repeat(gain, reps, axis=0)
        logits = dec[..., 0] + out
        return logits if gain is None else logits + ops.sum(dec[..., 1:] * gain, axis=-1)

    def log_px(self, x, logits, reps: int = 1):
        """log p(x | z) per image, (B·reps,), for x the targets (B, ...) (indices, or 0/1 ink) and
        the decoder's logits for ``reps`` codes per image, image-major."""
        if self.pixel_head:
            logits = self.head_logits(x, logits, reps)
        if not _one(reps):
            x = ops.repeat(x, reps, axis=0)
        if self.bernoulli:
            x = ops.cast(x, "float32")
            ll = x * logits - ops.softplus(logits)  # = -binary cross-entropy with logits
            return ops.sum(ll, axis=(1, 2))
        logp = ops.log_softmax(logits, axis=-1)
        picked = ops.take_along_axis(logp, ops.expand_dims(ops.cast(x, "int32"), -1), axis=-1)
        return ops.sum(picked, axis=(1, 2, 3))

    @staticmethod
    def kl_terms(m, logvar):
        """KL(N(m, exp σ) ‖ N(0, 1)) per dimension: ½(exp σ − (1 + σ) + m²)."""
        return 0.5 * (ops.exp(logvar) - (1.0 + logvar) + ops.square(m))

    def code(self, m, logvar, eps):
        """The code c = m + exp(σ/2)·e: the reparameterised sample."""
        return m + ops.exp(0.5 * logvar) * eps

    def kl(self, m, logvar):
        """KL(q(c|x) ‖ N(0, I)) per image, (B,)."""
        return ops.sum(self.kl_terms(m, logvar), axis=-1)

    def call(self, inputs, training=False):
        """(x, e) or, for the CVAE, (x, e, label) -> (B, 2): reconstruction and KL nats per image.
        With noise e of K draws per image, (B, K, latent), -> (B, 3): the reconstruction averaged
        over the draws, the KL, and the negative IWAE bound with those K draws."""
        x, eps = inputs[0], inputs[1]
        label = inputs[2] if len(inputs) > 2 else None
        m, logvar = self.encode(x, label, training=training)
        if len(eps.shape) == 3:
            return self.iwae_terms(x, label, m, logvar, eps)
        logits = self.decode(self.code(m, logvar, eps), label)
        rec = -self.log_px(x, logits)
        return ops.stack([rec, self.kl(m, logvar)], axis=-1)

    def iwae_terms(self, x, label, m, logvar, eps):
        """(B, 3) for noise eps (B, K, latent): mean −log p(x | z_k), KL(q ‖ p), and
        −log (1/K) Σ_k p(x, z_k) / q(z_k | x), the IWAE training loss (genkit.models.iwae)."""
        k = eps.shape[1]
        z = iwae.codes(m, logvar, eps)
        rep = lambda t: None if t is None else ops.repeat(t, k, axis=0)  # noqa: E731
        logits = self.decode(ops.reshape(z, (-1, self.latent)), rep(label))
        log_px = ops.reshape(self.log_px(x, logits, k), (-1, k))
        bound = ops.logsumexp(iwae.log_weights(log_px, z, eps, logvar), axis=1) - float(np.log(k))
        return ops.stack([-ops.mean(log_px, axis=1), self.kl(m, logvar), -bound], axis=-1)

    def build_for_data(self) -> None:
        x = np.zeros((1, self.height, self.width), dtype=np.float32 if self.bernoulli else np.int32)
        label = self.labels_of(None, [0])
        self((x, np.zeros((1, self.latent), dtype=np.float32)) + (() if label is None else (label,)))

    # -- training (genkit.train) --------------------------------------------------------------
    @classmethod
    def check_training_data(cls, stream: Stream) -> None:
        if not stream.is_palette:
            raise GenkitError("training data must be palette-coded (gk-quantize ... | gk-train) or grey digits (--dataset mnist)")

    def train_arrays(self, stream: Stream) -> tuple:
        return (stream.indices.astype(np.int32),)

    def make_example(self, rows, seed, *, training, flip):
        x = rows[0]
        if flip:
            x = flip_image(x, seed)
        if self.bernoulli:  # dynamic binarization: ink drawn with its grey level as probability
            p = tf.gather(tf.constant(self.intensity), x)
            u = tf.random.stateless_uniform(tf.shape(p), seed=tf.random.experimental.stateless_fold_in(seed, 1))
            x = tf.cast(u < p, tf.float32)
        k = self.iwae_k  # K > 1: K draws per image, for the IWAE bound
        shape = [self.latent] if k == 1 else [k, self.latent]
        eps = tf.random.stateless_normal(shape, seed=tf.random.experimental.stateless_fold_in(seed, 2))
        return (x, eps, *rows[1:]), tf.zeros([], tf.float32)

    @property
    def iwae_k(self) -> int:
        """Importance samples per image in the training loss (1: the ELBO)."""
        return getattr(self.config, "iwae_k", 1)

    def loss_fn(self):
        return IWAELoss() if self.iwae_k > 1 else ELBOLoss(self.config.beta, getattr(self.config, "kl_floor", 0.0))

    def compile_for_training(self, lr: float) -> None:
        self.compile(optimizer=keras.optimizers.Adam(lr), loss=self.loss_fn(),
                     metrics=[keras.metrics.MeanMetricWrapper(rec_nats, name="rec"),
                              keras.metrics.MeanMetricWrapper(kl_nats, name="kl")])

    def report(self, logs: dict) -> dict:
        rec, kl = float(logs["rec"]), float(logs["kl"])
        out = {"nelbo": rec + kl, "rec": rec, "kl": kl, "bits_per_pixel": (rec + kl) / (self.height * self.width * LN2)}
        if self.iwae_k > 1:
            out["iwae"] = float(logs["loss"])  # −IWAE bound with iwae_k samples, nats/image
        return out

    # -- streams in, streams out ------------------------------------------------------------
    def inputs_of(self, stream: Stream) -> np.ndarray:
        """What the encoder reads: palette indices, or ink in [0, 1] (grey levels, not binarized)."""
        stream = self.as_model_stream(stream)
        if self.bernoulli:
            return self.intensity_of(stream)
        return stream.indices.astype(np.int32)

    def intensity_of(self, stream: Stream) -> np.ndarray:
        table = stream.palette[:, 0].astype(np.float32) / 255.0
        return table[stream.indices]

    def targets_of(self, stream: Stream, seed: int = 0) -> np.ndarray:
        """What the likelihood scores: indices, or ink binarized once with a fixed seed."""
        stream = self.as_model_stream(stream)
        if not self.bernoulli:
            return stream.indices.astype(np.int32)
        p = self.intensity_of(stream)
        return (np.random.default_rng(seed).random(p.shape, dtype=np.float32) < p).astype(np.float32)

    # -- labels: none here; the CVAE's encoder and decoder see one per image -------------------
    def labels_of(self, stream: Stream | None, labels=None) -> np.ndarray | None:
        """The labels the networks see for the stream's images (or ``labels``): None here."""
        return None

    def sample_labels(self, n: int, labels=None) -> np.ndarray | None:
        """The labels of ``n`` samples: None here."""
        return None

    def grid_label(self, at: Stream | None, label: int | None) -> int | None:
        """The one label of a grid figure: None here."""
        return None

    def line_label(self, a: Stream, b: Stream) -> int | None:
        """The one label of an interpolation from a to b: None here."""
        return None

    def _batched(self, fn, *arrays, batch_size=256):
        outs = []
        n = len(arrays[0])
        for i in range(0, n, batch_size):
            outs.append(fn(*[None if a is None else a[i : i + batch_size] for a in arrays]))
        if isinstance(outs[0], tuple):
            return tuple(np.concatenate([o[j] for o in outs]) for j in range(len(outs[0])))
        return np.concatenate(outs)

    def _x_tensor(self, x):
        return tf.constant(x, tf.float32 if self.bernoulli else tf.int32)

    def encode_stream(self, stream: Stream, labels=None) -> tuple[np.ndarray, np.ndarray]:
        """(m, σ) of every image of the stream, numpy (N, latent) each."""
        x = self.inputs_of(stream)
        y = self.labels_of(stream, labels)

        def run(xb, yb):
            m, lv = self._encode_fn(self._x_tensor(xb), tf.constant(yb, tf.int32))
            return ops.convert_to_numpy(m), ops.convert_to_numpy(lv)

        return self._batched(run, x, y if y is not None else np.zeros(len(x), np.int32))

    @tf.function(reduce_retracing=True)
    def _encode_fn(self, x, y):
        return self.encode(x, y)

    @tf.function(reduce_retracing=True)
    def _decode_fn(self, z, y):
        return self.decode(z, y)

    def decode_codes(self, z: np.ndarray, labels=None, meta: dict | None = None, *, decode: str = decoding.DEFAULT,
                     seed: int = 0) -> Stream:
        """Images for codes z (N, latent), each pixel's colour taken from the decoder's distribution
        as ``decode`` says (genkit.models.vae.decoding: greedy, mean or sample; ``seed`` seeds the
        draws). A Bernoulli decoder's mean is its ink probability as a grey level; a pixel head
        draws pixel by pixel (:meth:`_raster`)."""
        decoding.check(decode)
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent)
        y = np.zeros(len(z), np.int32) if labels is None else np.asarray(labels, np.int32)
        rng = np.random.default_rng([seed, 2])
        lab = None if self.bernoulli else srgb_to_lab(self.palette)

        def run(zb, yb):
            logits = ops.convert_to_numpy(self._decode_fn(tf.constant(zb, tf.float32), tf.constant(yb, tf.int32)))
            if self.pixel_head:
                return self._raster(logits, decode, rng)[0]
            if self.bernoulli:
                return decoding.ink_levels(logits, decode, rng)
            return decoding.palette_pixels(logits, self.palette, decode, rng, lab)

        out = self._batched(run, z, y)
        meta = dict(meta or {}, model=self.family)
        if self.bernoulli:
            if np.array_equal(self.palette, grey256()):
                return Stream(indices=out, palette=grey256(), meta=meta)
            out = np.abs(out[..., None].astype(np.int16) - self.palette[None, None, None, :, 0]).argmin(-1)
            return Stream(indices=out.astype(np.uint8), palette=self.palette, meta=meta)
        return Stream(indices=out, palette=self.palette, meta=meta)

    def _raster(self, dec: np.ndarray, decode: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Pictures from a pixel head, drawn pixel by pixel in raster order for the decoder's output
        ``dec`` (B, H, W, 1 + head_code), numpy: (grey levels uint8 (B, H, W), ink probabilities
        float32 (B, H, W)). ``sample`` draws each pixel, ``greedy`` inks it when p > ½, ``mean``
        shows p as a grey level along the greedy path (the exact per-pixel mean would need every
        path). The probability of pixel i is that of :meth:`head_logits` for the pixels drawn."""
        n, hh, ww = dec.shape[:3]
        r, p = HEAD_ROWS, HEAD_COLS
        arr = lambda t: ops.convert_to_numpy(t).astype(np.float32)  # noqa: E731
        c = self.pixel_head
        k_above, b_above = arr(self.head_above.kernel).reshape(-1, c), arr(self.head_above.bias)
        k_left = arr(self.head_left.kernel).reshape(-1, c)
        k_mid, b_mid = arr(self.head_mid.kernel), arr(self.head_mid.bias)
        k_out, b_out = arr(self.head_out.kernel)[:, 0], float(arr(self.head_out.bias)[0])
        gains = None
        if self.head_gain is not None:
            gains = arr(self.head_gain.kernel), arr(self.head_gain.bias)
            feats = dec[..., 1:].astype(np.float32)
        base = dec[..., 0].astype(np.float32)
        xp = np.zeros((n, hh + r, ww + 2 * p), np.float32)  # the drawn ink, padded as in head_logits
        probs = np.zeros((n, hh, ww), np.float32)
        for i in range(hh):
            for j in range(ww):
                h = xp[:, i : i + r, j : j + 2 * p + 1].reshape(n, -1) @ k_above + xp[:, i + r, j : j + p] @ k_left
                h = np.maximum(np.maximum(h + b_above, 0.0) @ k_mid + b_mid, 0.0)
                logit = base[:, i, j] + h @ k_out + b_out
                if gains is not None:
                    logit += ((h @ gains[0] + gains[1]) * feats[:, i, j]).sum(-1)
                prob = 1.0 / (1.0 + np.exp(-np.clip(logit, -60.0, 60.0)))
                ink = rng.random(n, dtype=np.float32) < prob if decode == "sample" else prob > 0.5
                xp[:, i + r, j + p] = ink
                probs[:, i, j] = prob
        levels = probs if decode == "mean" else xp[:, r:, p : p + ww]
        return np.rint(levels * 255.0).astype(np.uint8), probs

    # -- what the commands call ----------------------------------------------------------------
    def sample_stream(self, n: int, *, temperature: float = 1.0, seed: int = 0, batch_size: int = 256,
                      progress=None, labels=None, decode: str = decoding.DEFAULT) -> Stream:
        """gk-sample: codes drawn from the prior N(0, T²·I), decoded as ``decode`` says. A
        conditional model draws the labels 0, 1, 2, ... in turn unless ``labels`` are given."""
        if temperature < 0:
            raise GenkitError("--temperature must be >= 0")
        z = np.random.default_rng(seed).standard_normal((n, self.latent)).astype(np.float32) * temperature
        y = self.sample_labels(n, labels)
        out = self.decode_codes(z, y, {"temperature": temperature, "seed": seed}, decode=decoding.check(decode), seed=seed)
        if y is not None:
            out.labels = np.asarray(y, np.int64)
        if progress:
            progress(n)
        return out

    def grid_codes(self, dims: tuple[int, int], lo: float, hi: float, steps: int, base: np.ndarray) -> np.ndarray:
        """(steps², latent) codes: ``base`` everywhere except dims[0] (rows) and dims[1] (columns),
        which take ``steps`` evenly spaced values from lo to hi."""
        i, j = dims
        for d in dims:
            if not 0 <= d < self.latent:
                raise GenkitError(f"grid dimension {d} is outside the code (dimensions 0..{self.latent - 1})")
        if i == j:
            raise GenkitError("--grid needs two different dimensions")
        if steps < 2:
            raise GenkitError("--steps must be at least 2")
        values = np.linspace(lo, hi, steps, dtype=np.float32)
        z = np.repeat(np.asarray(base, np.float32).reshape(1, self.latent), steps * steps, axis=0)
        z[:, i] = np.repeat(values, steps)
        z[:, j] = np.tile(values, steps)
        return z

    def grid_stream(self, dims: tuple[int, int], lo: float, hi: float, steps: int, *, at: Stream | None = None,
                    label: int | None = None, decode: str = decoding.DEFAULT, seed: int = 0) -> Stream:
        """The lecture's figure: fix every code dimension (at 0, or at the encoder's mean for the
        image ``at``) except ``dims``, and sweep those two over ``steps`` values from lo to hi:
        row r has dims[0] = value r, column c has dims[1] = value c. ``decode``, ``seed``: as
        :meth:`decode_codes`."""
        decoding.check(decode)
        base = np.zeros(self.latent, np.float32)
        self.grid_codes(dims, lo, hi, steps, base)  # check the arguments before any work
        if at is not None:
            if len(at) != 1:
                raise GenkitError(f"--at takes one image, got {len(at)}")
            base = self.encode_stream(at, None if label is None else [label])[0][0]
        label = self.grid_label(at, label)
        y = None if label is None else np.full(steps * steps, label, np.int32)
        z = self.grid_codes(dims, lo, hi, steps, base)
        return self.decode_codes(z, y, {"grid": list(dims), "range": [float(lo), float(hi)], "steps": steps, "cols": steps},
                                 decode=decode, seed=seed)

    def interpolate(self, a: Stream, b: Stream, steps: int, *, decode: str = decoding.DEFAULT, seed: int = 0,
                    **options) -> Stream:
        """gk-interp: :meth:`interpolate_stream`."""
        return self.interpolate_stream(a, b, steps, decode=decode, seed=seed)

    def interpolate_stream(self, a: Stream, b: Stream, steps: int, *, decode: str = decoding.DEFAULT,
                           seed: int = 0) -> Stream:
        """Decode ``steps`` evenly spaced points on the line from the code of a to that of b
        (encoder means); the first and last frames are the reconstructions of a and b.
        ``decode``, ``seed``: as :meth:`decode_codes`."""
        decoding.check(decode)
        if steps < 2:
            raise GenkitError("--steps must be at least 2")
        if len(a) != 1 or len(b) != 1:
            raise GenkitError("interpolation takes exactly two images")
        ma = self.encode_stream(a)[0][0]
        mb = self.encode_stream(b)[0][0]
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        label = self.line_label(a, b)
        y = None if label is None else np.full(steps, label, np.int32)
        return self.decode_codes((1 - t) * ma + t * mb, y, {"steps": steps, "cols": steps}, decode=decode, seed=seed)

    def style_stream(self, images: Stream, labels, label: int | None = None) -> Stream:
        """The CVAE's style transfer (see genkit.models.cvae); an unconditional model has none."""
        raise GenkitError(f"style transfer needs a conditional model (cvae), not {self.family}")

    # -- likelihood ---------------------------------------------------------------------------
    @tf.function(reduce_retracing=True)
    def _log_weights(self, x, y, eps):
        """log p(x, z_k) − log q(z_k | x) for eps (B, k, L): (B, k), and log p(x | z_k) (B, k)."""
        m, logvar = self.encode(x, y)
        z = iwae.codes(m, logvar, eps)
        b, k = tf.shape(eps)[0], tf.shape(eps)[1]
        flat_z = tf.reshape(z, [b * k, self.latent])
        rep = lambda t: tf.repeat(t, k, axis=0)  # noqa: E731
        logits = self.decode(flat_z, rep(y))
        log_px = tf.reshape(self.log_px(x, logits, k), [b, k])
        return iwae.log_weights(log_px, z, eps, logvar), log_px

    def evaluate_stream(self, stream: Stream, batch_size: int = 64, *, k: int | None = None, seed: int = 0,
                        progress=None) -> dict:
        """gk-eval: the importance-sampled log-likelihood (the IWAE bound with k samples, Burda et
        al. 2016) as nll_nats, the negative ELBO (nelbo_nats, an upper bound on it), KL per code dimension and active units (Cov_x E_q[z_u] > 0.01), in
        nats per image; bits per pixel too. Bernoulli models score a fixed binarization (seed)."""
        k = self.default_k if k is None else k
        if k < 1:
            raise GenkitError("-k must be at least 1")
        x_in = self.targets_of(stream, seed)
        y = self.labels_of(stream)
        y = y if y is not None else np.zeros(len(x_in), np.int32)
        rng = np.random.default_rng([seed, 1])
        # decoder rows per call: up to 4096, fewer when each row's logits are large (a palette)
        width = (1 + self.head_code) if self.pixel_head else 1 if self.bernoulli else self.num_colors  # per pixel
        rows = max(1, min(4096, (1 << 24) // (self.height * self.width * width)))
        chunk = max(1, min(k, rows))  # importance samples per decoder call
        per_batch = max(1, min(batch_size, rows // chunk))
        bound, elbo_rec, m_all, lv_all = [], [], [], []
        for i in range(0, len(x_in), per_batch):
            xb, yb = self._x_tensor(x_in[i : i + per_batch]), tf.constant(y[i : i + per_batch], tf.int32)
            ll, rec = iwae.estimate(lambda eps: self._log_weights(xb, yb, tf.constant(eps)), len(xb), k, self.latent,
                                    rng, chunk)
            bound.append(ll)
            elbo_rec.append(rec)
            m, lv = self._encode_fn(xb, yb)
            m_all.append(ops.convert_to_numpy(m))
            lv_all.append(ops.convert_to_numpy(lv))
            if progress:
                progress(len(xb))
        m, lv = np.concatenate(m_all).astype(np.float64), np.concatenate(lv_all).astype(np.float64)
        kl_dims = (0.5 * (np.exp(lv) - 1.0 - lv + m**2)).mean(axis=0)
        ll = np.concatenate(bound)
        rec = np.concatenate(elbo_rec)
        hw = self.height * self.width
        nll = float(-ll.mean())
        return ImageIWAE({
            "model": self.family,
            "images": len(x_in),
            "k": k,
            "nll_nats": nll,
            "nelbo_nats": float(-(rec.mean() - kl_dims.sum())),
            "kl_nats": float(kl_dims.sum()),
            "rec_nats": float(-rec.mean()),
            "bits_per_pixel": nll / (hw * LN2),
            "kl_per_dim": [round(float(v), 4) for v in kl_dims],
            "active_units": int((m.var(axis=0) > 0.01).sum()),
            "latent": self.latent,
        })
