"""Masked (absorbing-state) discrete diffusion over palette indices: D3PM-absorbing in continuous
time (MDLM, Sahoo et al. 2024; Shi et al. 2024), sampled MaskGIT-style in a few parallel steps.

**Forward process.** At time t in [0, 1] every pixel is, independently, replaced by an extra
MASK token (index K) with probability t (the linear schedule α_t = 1 - t); a masked pixel stays
masked. **Model.** A bidirectional conv net sees the partly masked image and gives, at every
pixel, logits over the K colours: p(x_i | x_t). It is not told t: the masked share says it, and
for the absorbing state the best denoiser does not depend on t (Ou et al. 2024), so the same net
serves every masking rate, completion masks included.

**Loss** (the negative continuous-time ELBO, per pixel; an upper bound on -log p(x)):

    E_{t ~ U(0, 1)} [ (1/t) * sum over masked i of -log p(x_i | x_t) ] / (H * W)

One t per example; the 1/t weight is -α'_t / (1 - α_t) of the linear schedule, which makes the
uniform draw of t the right one (no importance weights). The bound equals the expected NLL of
the any-order autoregressive model that the net defines (a random order, one pixel at a time),
so gk-eval's figure bounds the likelihood of what ``steps = H*W`` draws.

**Network.** Embedding of K colours + MASK, plus a learned position embedding; ``blocks``
pre-norm residual blocks, each a 3x3 conv (dilations cycled, to reach across the sprite),
GELU, the image's mean features added (global context: palette, masked share), a 1x1 conv; a
GELU -> 1x1 -> GELU -> 1x1 head to the palette.

**Sampling** (:meth:`MaskedDiffusion.generate`): start all masked (or from the given pixels),
then in each of S steps reveal a share of the still-hidden pixels, drawing each from its p(x_i |
x_t) at ``temperature``, independently within the step. ``order="random"`` (the default)
reveals them in a uniformly random order, equal shares per step: the model's own reverse
process (exactly what the ELBO scores when S = H*W), so samples keep the model's diversity.
``order="confidence"`` (MaskGIT) draws every hidden pixel and keeps the most probable draws:
fewer artefacts at small S, less diversity, and no longer the model's distribution.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ...errors import GenkitError
from ...io import Stream
from .. import register
from ..base import LN2, PaletteImageModel, completed_stream, completion_inputs, draw, flip_image
from ..capabilities import Completes, Evaluation, Evaluates, Refines, Samples
from .config import MaskedDiffusionConfig

ORDERS = ("random", "confidence")
MIN_RATE = 1e-6  # masking rates below this count as this (the 1/t weight stays finite)


class MaskedNLLBound(Evaluation):
    """The masked family's upper bound on the NLL (the ELBO over masking rates), Monte-Carlo."""

    def line(self) -> str:
        return (f"<= {self['bits_per_pixel']:.4f} bits/px (ELBO bound, ± {self['stderr_bits_per_pixel']:.4f} s.e., "
                f"{self['k']} masking rates/image, seed {self['seed']})  {self['nats_per_image']:.2f} nats/image  "
                f"{self['images']} images  {self['model']}  {self['data']}")

    def card_rows(self, metrics, model, measure):
        val = measure("val")
        rows = [
            self._best(metrics, " (by validation bound)"),
            f"| **test NLL** | **<= {self['bits_per_pixel']:.4f} bits/px** (ELBO bound, ± {self['stderr_bits_per_pixel']:.4f} "
            f"Monte-Carlo s.e., {self['k']} masking rates per image, seed {self['seed']}; {self['nats_per_image']:.1f} nats/image) |",
            f"| val NLL | <= {val['bits_per_pixel']:.4f} bits/px |",
        ]
        history = "Per epoch, ELBO bound in bits/px (one masking rate per image): " + ", ".join(
            f"{r['epoch']}: {r['train_bits_per_pixel']:.3f}/{r['val_bits_per_pixel']:.3f}" for r in metrics["epochs"]) + " (train/val)"
        return f"{model.config.steps} refinement steps by default; ", rows, history


class MaskedELBOLoss(keras.losses.Loss):
    """Per example: sum over pixels of weight * cross-entropy / (H*W), nats per pixel. The target
    (B, H, W, 2) holds the true colour and the weight (1/t on masked pixels, 0 on visible ones)."""

    def call(self, y_true, y_pred):
        target = ops.cast(y_true[..., 0], "int32")
        weight = y_true[..., 1]
        ce = -ops.take_along_axis(ops.log_softmax(y_pred, axis=-1), ops.expand_dims(target, -1), axis=-1)[..., 0]
        return ops.mean(weight * ce, axis=(1, 2))


@register("masked")
class MaskedDiffusion(PaletteImageModel, Samples, Completes, Refines, Evaluates):
    family = "masked"
    config_class = MaskedDiffusionConfig

    def __init__(self, height, width, palette, **settings):
        super().__init__(height, width, palette, **settings)
        c, k = self.config, self.num_colors
        self.mask_token = k
        dilations = [int(v) for v in c.dilations.split(",")]
        self.embedding = keras.layers.Embedding(k + 1, c.embed, name="embed")
        self.position = self.add_weight(shape=(self.height, self.width, c.embed), name="position",
                                        initializer=keras.initializers.RandomNormal(stddev=0.02))
        self.stem = keras.layers.Dense(c.channels, name="stem")
        self.norms = [keras.layers.LayerNormalization(name=f"norm_{i}") for i in range(c.blocks)]
        self.convs = [keras.layers.Conv2D(c.channels, 3, padding="same", dilation_rate=dilations[i % len(dilations)],
                                          name=f"conv_{i}") for i in range(c.blocks)]
        self.contexts = [keras.layers.Dense(c.channels, name=f"context_{i}") for i in range(c.blocks)]
        self.mixes = [keras.layers.Dense(c.channels, name=f"mix_{i}") for i in range(c.blocks)]
        self.head_norm = keras.layers.LayerNormalization(name="head_norm")
        self.head_hidden = keras.layers.Dense(c.head, name="head_hidden")
        self.head_out = keras.layers.Dense(k, name="logits")
        self.drop = keras.layers.Dropout(c.dropout)

    # -- the network ---------------------------------------------------------------------------
    def call(self, indices, training=False):
        """Logits (B, H, W, K) over the colours at every pixel, from indices (B, H, W) in which
        ``mask_token`` (K) marks the hidden pixels."""
        h = self.stem(self.embedding(ops.cast(indices, "int32")) + self.position)
        for norm, conv, context, mix in zip(self.norms, self.convs, self.contexts, self.mixes):
            y = ops.gelu(conv(norm(h)))
            y = y + context(ops.mean(y, axis=(1, 2), keepdims=True))
            h = h + self.drop(mix(ops.gelu(y)), training=training)
        y = self.drop(ops.gelu(self.head_hidden(ops.gelu(self.head_norm(h)))), training=training)
        return self.head_out(y)

    # -- training (genkit.train) -----------------------------------------------------------------
    def make_example(self, rows, seed, *, training, flip):
        """(x_t, [x, weight]): a masking rate t ~ U(0, 1) and a mask drawn from the stateless seed
        (validation: the fixed draws of epoch -1, so its bound is comparable across epochs)."""
        x = rows[0]
        if flip:
            x = flip_image(x, seed)
        t = tf.maximum(tf.random.stateless_uniform([], seed=tf.random.experimental.stateless_fold_in(seed, 1)), MIN_RATE)
        u = tf.random.stateless_uniform(tf.shape(x), seed=tf.random.experimental.stateless_fold_in(seed, 2))
        hidden = u < t
        xt = tf.where(hidden, tf.cast(self.mask_token, x.dtype), x)
        weight = tf.cast(hidden, tf.float32) / t
        return xt, tf.stack([tf.cast(x, tf.float32), weight], axis=-1)

    def loss_fn(self):
        return MaskedELBOLoss()

    # -- sampling and completion -------------------------------------------------------------------
    def generate(self, n: int, *, steps: int | None = None, temperature: float = 1.0, seed: int = 0,
                 known: np.ndarray | None = None, mask: np.ndarray | None = None, order: str = "random",
                 batch_size: int = 64, progress=None) -> np.ndarray:
        """Draw ``n`` images (N, H, W) uint8 in ``steps`` parallel refinement steps.

        ``known`` (N, H, W) with ``mask`` (N, H, W, True = given) completes images: given pixels
        are kept exactly and every hidden one is drawn given all that is visible. Each step
        reveals an equal share of each image's hidden pixels (the last steps reveal nothing when
        fewer pixels than steps are hidden). ``order``: "random" or "confidence" (see the module).
        ``temperature`` divides the logits, 0 is greedy. The same seed and options give the same images.
        """
        steps = self.config.steps if steps is None else int(steps)
        if steps < 1:
            raise GenkitError(f"--steps must be at least 1, got {steps}")
        if temperature < 0:
            raise GenkitError("--temperature must be >= 0")
        if order not in ORDERS:
            raise GenkitError(f"order must be {' or '.join(ORDERS)}, got {order!r}")
        hw = self.height * self.width
        given_all = np.zeros((n, hw), bool) if mask is None else np.asarray(mask, dtype=bool).reshape(n, hw)
        known_all = np.zeros((n, hw), np.int32) if known is None else np.asarray(known, dtype=np.int32).reshape(n, hw)
        out = np.zeros((n, hw), dtype=np.int32)
        for start in range(0, n, batch_size):
            stop = min(n, start + batch_size)
            rng = np.random.default_rng([seed, start])
            given = given_all[start:stop]
            canvas = np.where(given, known_all[start:stop], self.mask_token).astype(np.int32)
            # rank of each hidden pixel in a random order (given pixels rank after all of them)
            keys = np.where(given, np.inf, rng.random(given.shape))
            rank = np.argsort(np.argsort(keys, axis=1, kind="stable"), axis=1)
            hidden = (~given).sum(axis=1, keepdims=True)
            for j in range(steps):
                reveal_to = hidden * (j + 1) // steps  # pixels revealed once step j is done
                if order == "random":
                    chosen = (rank >= hidden * j // steps) & (rank < reveal_to)
                    if not chosen.any():
                        continue
                    logits = self._logits(canvas)
                    canvas[chosen] = draw(logits[chosen], temperature, rng)
                else:
                    still = canvas == self.mask_token
                    count = reveal_to[:, 0] - (hidden[:, 0] - still.sum(axis=1))
                    if not count.any():
                        continue
                    logits = self._logits(canvas)
                    drawn = draw(logits.reshape(-1, self.num_colors), temperature, rng).reshape(canvas.shape)
                    logp = _log_softmax(logits)
                    score = np.where(still, np.take_along_axis(logp, drawn[..., None], -1)[..., 0], -np.inf)
                    best = np.argsort(-score, axis=1, kind="stable")
                    chosen = np.zeros_like(still)
                    for b in range(len(canvas)):
                        chosen[b, best[b, : count[b]]] = True
                    canvas[chosen] = drawn[chosen]
            out[start:stop] = canvas
            if progress:
                progress(stop - start)
        return out.reshape(n, self.height, self.width).astype(np.uint8)

    def _logits(self, canvas: np.ndarray) -> np.ndarray:
        """(B, H*W, K) float64 logits of every pixel of the flat canvases (B, H*W)."""
        logits = self.forward(tf.constant(canvas.reshape(-1, self.height, self.width), tf.int32))
        return ops.convert_to_numpy(logits).reshape(len(canvas), -1, self.num_colors).astype(np.float64)

    def sample_stream(self, n: int, *, temperature: float = 1.0, seed: int = 0, batch_size: int = 64,
                      progress=None, steps: int | None = None, order: str = "random") -> Stream:
        """gk-sample: ``n`` new images in ``steps`` refinement steps, as a palette-coded stream."""
        steps = self.config.steps if steps is None else steps
        indices = self.generate(n, steps=steps, temperature=temperature, seed=seed, order=order, batch_size=batch_size,
                                progress=progress)
        return Stream(indices=indices, palette=self.palette,
                      meta={"model": self.family, "temperature": temperature, "seed": seed, "steps": steps, "order": order})

    def complete_stream(self, stream: Stream, *, keep: float = 0.5, mask: np.ndarray | None = None, k: int = 1,
                        temperature: float = 1.0, seed: int = 0, batch_size: int = 64, progress=None,
                        steps: int | None = None, order: str = "random") -> Stream:
        """gk-complete: keep the first ``keep`` of each image in raster order (or the True pixels
        of ``mask``, (H, W)) and draw the rest from every kept pixel, ``k`` times per image, in
        ``steps`` refinement steps. Given pixels are exactly the input's; a mask that hides
        nothing returns the input."""
        stream, known, masks, keep = completion_inputs(self, stream, keep, mask, k)
        steps = self.config.steps if steps is None else steps
        out = self.generate(len(known), steps=steps, temperature=temperature, seed=seed, known=known, mask=masks,
                            order=order, batch_size=batch_size, progress=progress)
        return completed_stream(self, stream, out, masks, k, keep, temperature=temperature, seed=seed, steps=steps,
                                order=order)

    # -- the likelihood bound ------------------------------------------------------------------------
    def elbo_nats(self, indices: np.ndarray, k: int = 32, seed: int = 0, batch_size: int = 64,
                  progress=None) -> np.ndarray:
        """The ELBO terms (N, k) in nats per image: for image i and draw j, a masking rate
        t = (j + u_i) / k (stratified over [0, 1]) and a mask, then (1/t) * the masked pixels'
        -log p(x | x_t). Each row's mean is an unbiased estimate of image i's bound."""
        x = np.asarray(indices, dtype=np.int32).reshape(len(indices), -1)
        n, hw = x.shape
        rng = np.random.default_rng(seed)
        t = np.maximum((np.arange(k)[None] + rng.random((n, 1))) / k, MIN_RATE)  # (N, k)
        hidden = rng.random((n, k, hw)) < t[..., None]
        out = np.zeros((n, k))
        flat_x = np.repeat(x, k, axis=0)
        flat_hidden = hidden.reshape(n * k, hw)
        per_batch = max(1, batch_size)
        done = 0
        for start in range(0, n * k, per_batch):
            stop = min(n * k, start + per_batch)
            canvas = np.where(flat_hidden[start:stop], self.mask_token, flat_x[start:stop])
            logp = _log_softmax(self._logits(canvas))
            nll = -np.take_along_axis(logp, flat_x[start:stop, :, None], -1)[..., 0]
            out.reshape(-1)[start:stop] = (nll * flat_hidden[start:stop]).sum(axis=1) / t.reshape(-1)[start:stop]
            if progress and stop // k > done:
                progress(stop // k - done)
                done = stop // k
        return out

    def evaluate_stream(self, stream: Stream, batch_size: int = 64, *, k: int | None = None, seed: int = 0,
                        progress=None) -> MaskedNLLBound:
        """gk-eval: the upper bound on the NLL (the negative ELBO over masking rates), in bits
        per pixel, estimated with ``k`` stratified masking rates per image [default 32] from
        ``seed``, with its Monte-Carlo standard error."""
        k = 32 if k is None else k
        stream = self.as_model_stream(stream)
        terms = self.elbo_nats(stream.indices, k=k, seed=seed, batch_size=batch_size, progress=progress)
        hw = self.height * self.width
        n = len(terms)
        # Monte-Carlo error of the mean over images (the draws' spread within each image)
        var = terms.var(axis=1, ddof=1).sum() / k if k > 1 else float("nan")
        return MaskedNLLBound({
            "model": self.family,
            "images": n,
            "k": k,
            "seed": seed,
            "bits_per_pixel": float(terms.mean() / (hw * LN2)),
            "nats_per_image": float(terms.mean()),
            "stderr_bits_per_pixel": float(math.sqrt(var) / n / (hw * LN2)),
        })


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
