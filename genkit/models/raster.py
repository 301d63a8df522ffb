"""Raster-order sampling of palette images, without Keras.

What a pixel model's commands need besides the network itself: the loop that draws one pixel at
a time through a compiled program (:class:`RasterSampling`, over a model's ``_sample_batch``),
completion of partly given images, the draw from logits in numpy and in TensorFlow (bit for
bit the same), and how input images are brought onto a model's size and palette
(:class:`ReadsImages`). genkit.models.base's ``PixelModel`` (the Keras model) and
genkit.models.compiled's ``CompiledPixelModel`` (its raster loop saved once, loaded without
Keras) both sample through this module, so that they draw the same images for the same seed.
"""

from __future__ import annotations

import concurrent.futures
import os
from typing import Callable

import numpy as np
import tensorflow as tf

from ..errors import GenkitError
from ..io import Stream, read_stream


class ReadsImages:
    """An image model's input side: any image or stream is brought onto what it reads by
    genkit.adapt (its size as its training data was made, its palette, grey polarity). The
    checkpoint records ``input_prep``: the training images' resize and crop (gk-quantize's)."""

    #: {"resize": N or [H, W], "crop": [H, W]} of the training images; None: unknown
    input_prep: dict | None = None

    def _take_input_prep(self, settings: dict) -> dict:
        """``settings`` without ``input_prep``, which is kept on the model (not a setting)."""
        settings = dict(settings)
        self.input_prep = settings.pop("input_prep", None)
        return settings

    def _input_prep_config(self) -> dict:
        return {"input_prep": self.input_prep} if self.input_prep else {}

    def reads(self):
        """What genkit.adapt brings input onto. Without a record (the shipped checkpoints):
        colour models were trained on centre crops (the Pokemon crops), grey ones on whole
        images (MNIST: light ink on dark)."""
        from ..adapt import InputSpec

        grey = bool(getattr(self, "bernoulli", False))
        prep = self.input_prep or {}
        resize, crop = prep.get("resize"), prep.get("crop")
        return InputSpec(self.height, self.width, self.palette, grey=grey, prepare="resize" if grey else "crop",
                         resize=tuple(resize) if isinstance(resize, (list, tuple)) else resize,
                         crop=(crop, crop) if isinstance(crop, int) else tuple(crop) if crop else None)

    def as_model_stream(self, stream: Stream, note=None) -> Stream:
        """The stream on the model's size and palette (genkit.adapt); ``note`` hears what was done."""
        from ..adapt import adapt

        return adapt(stream, self.reads(), note=note)


def completion_inputs(model, stream: Stream, keep: float, mask: np.ndarray | None, k: int):
    """What gk-complete hands a model's sampler: (the stream on the model's size and palette,
    known (N*k, H, W), masks (N*k, H, W), True = given, the share given). The mask keeps the first
    ``keep`` of each image in raster order, or is ``mask`` (H, W)."""
    stream = model.as_model_stream(stream)
    hw = model.height * model.width
    if mask is None:
        if not 0 < keep < 1:
            raise GenkitError(f"--keep must be between 0 and 1 (exclusive), got {keep}")
        mask = (np.arange(hw) < round(keep * hw)).reshape(model.height, model.width)
    elif mask.shape != (model.height, model.width):
        raise GenkitError(f"the mask is {mask.shape[1]}x{mask.shape[0]}, the model's images {model.width}x{model.height}")
    if k < 1:
        raise GenkitError("-k must be at least 1")
    known = np.repeat(stream.indices, k, axis=0)
    return stream, known, np.broadcast_to(mask, known.shape).copy(), float(mask.mean())


def completed_stream(model, stream: Stream, out: np.ndarray, masks: np.ndarray, k: int, keep: float, **meta) -> Stream:
    """The N*k completions ``out`` as a stream: names ``NAME#j``, the ``masks``, and ``meta``
    (the options that drew them) beside the model, the share given and k."""
    names = None
    if stream.names is not None:
        names = np.array([f"{n}#{j + 1}" for n in stream.names for j in range(k)])
    return Stream(indices=out, palette=model.palette, names=names, mask=masks,
                  meta={"model": model.family, "keep": keep, "k": k, **meta})


class RasterSampling:
    """Sampling and completion over a compiled raster loop: the class provides ``height``,
    ``width``, ``palette``, ``family`` and ``_sample_batch(canvas (H*W, B) int32, given (H*W, B)
    bool, uniforms (H*W, B) float64, temperature float64) -> canvas``."""

    #: split a batch among threads (:meth:`_sample_parallel`): for a family whose sampling step is
    #: many small products, which one XLA program runs on about one core
    parallel_sampling = False

    def generate(
        self,
        n: int,
        *,
        temperature: float = 1.0,
        seed: int = 0,
        known: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        batch_size: int = 64,
        naive: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Draw ``n`` images (N, H, W) uint8, one pixel at a time in raster order.

        ``known`` (N, H, W) with ``mask`` (N, H, W, True = given) completes images: given pixels
        are kept exactly, the others drawn. ``temperature`` divides the logits; 0 is greedy
        (argmax). The same seed and options give the same images. Each batch is one call of the
        compiled loop; ``naive`` instead re-runs the whole model for every pixel, from Python,
        with the same draws (``rng.random(batch)`` per pixel of ``default_rng([seed, start])``).
        """
        if temperature < 0:
            raise GenkitError("--temperature must be >= 0")
        hw = self.height * self.width
        if known is not None:
            known = np.asarray(known, dtype=np.int32).reshape(n, hw)
            mask = np.asarray(mask, dtype=bool).reshape(n, hw)
        out = np.zeros((n, hw), dtype=np.int32)
        for start in range(0, n, batch_size):
            stop = min(n, start + batch_size)
            uniforms = np.random.default_rng([seed, start]).random((hw, stop - start))
            canvas = np.zeros((stop - start, hw), dtype=np.int32)
            given = mask[start:stop] if mask is not None else np.zeros_like(canvas, dtype=bool)
            if known is not None:
                canvas[given] = known[start:stop][given]
            if naive:
                if not hasattr(self, "naive_logits"):
                    raise GenkitError("naive sampling needs the Keras model (genkit.models.load)")
                for t in range(hw):
                    drawn = pick(self.naive_logits(t, canvas), temperature, uniforms[t])
                    canvas[:, t] = np.where(given[:, t], canvas[:, t], drawn)
            else:
                canvas = self._sample_parallel(canvas, given, uniforms, float(temperature))
            out[start:stop] = canvas
            if progress:
                progress(stop - start)
        return out.reshape(n, self.height, self.width).astype(np.uint8)

    def _sample_parallel(self, canvas: np.ndarray, given: np.ndarray, uniforms: np.ndarray, temperature: float):
        """One batch (B, H*W) through :meth:`_sample_batch`, its images split among :func:`sampling_threads`
        threads. Each image keeps its own column of ``uniforms``, so the split draws the same images.
        (One XLA program runs its small matmuls on about one core; two programs side by side use two.)"""
        parts = np.array_split(np.arange(len(canvas)), min(sampling_threads() if self.parallel_sampling else 1, len(canvas)))
        temperature = tf.constant(temperature, tf.float64)

        def run(rows):
            return self._sample_batch(tf.constant(canvas[rows].T), tf.constant(given[rows].T),
                                      tf.constant(uniforms[:, rows]), temperature).numpy().T

        if len(parts) == 1:
            return run(parts[0])
        with concurrent.futures.ThreadPoolExecutor(len(parts)) as pool:
            return np.concatenate(list(pool.map(run, parts)))

    # -- what the commands call ----------------------------------------------------------
    def sample_stream(self, n: int, *, temperature: float = 1.0, seed: int = 0, batch_size: int = 64,
                      progress=None) -> Stream:
        """gk-sample: ``n`` new images as a palette-coded stream."""
        indices = self.generate(n, temperature=temperature, seed=seed, batch_size=batch_size, progress=progress)
        return Stream(indices=indices, palette=self.palette,
                      meta={"model": self.family, "temperature": temperature, "seed": seed})

    def complete_stream(self, stream: Stream, *, keep: float = 0.5, mask: np.ndarray | None = None, k: int = 1,
                        temperature: float = 1.0, seed: int = 0, batch_size: int = 64, progress=None) -> Stream:
        """gk-complete: keep the first ``keep`` of each image in raster order (or the True pixels
        of ``mask``, (H, W)) and draw the rest, ``k`` times per image. The result holds the N*k
        completions with their ``mask``; given pixels are exactly the input's."""
        stream, known, masks, keep = completion_inputs(self, stream, keep, mask, k)
        out = self.generate(len(known), temperature=temperature, seed=seed, known=known, mask=masks,
                            batch_size=batch_size, progress=progress)
        return completed_stream(self, stream, out, masks, k, keep, temperature=temperature, seed=seed)


def read_one(path: str, what: str, count: int = 1) -> Stream:
    """The image(s) of one file (or - for stdin) given to an option, checked for their number."""
    stream = read_stream([path])
    if len(stream) != count:
        raise GenkitError(f"{what} takes {'one image' if count == 1 else f'{count} images'}, got {len(stream)}", source=path)
    return stream


def completion_sheet(original: Stream, completed: Stream, k: int) -> Stream:
    """The lecture's figure: per image a row of original | masked | k completions.

    Hidden pixels of the masked tile are shown in an extra grey palette entry."""
    from ..io import SHEET_PAD_RGB

    n = len(original)
    palette = completed.palette
    hidden = len(palette)
    if hidden < 256:
        palette = np.concatenate([palette, np.array([SHEET_PAD_RGB], dtype=np.uint8)])
    else:
        hidden = 0
    rows = []
    for i in range(n):
        mask = completed.mask[i * k]
        masked = np.where(mask, original.indices[i], hidden).astype(np.uint8)
        rows += [original.indices[i], masked, *completed.indices[i * k:(i + 1) * k]]
    return Stream(indices=np.stack(rows), palette=palette, meta={**completed.meta, "cols": k + 2})


def sampling_threads() -> int:
    """How many compiled sampling loops run side by side: $GENKIT_SAMPLING_THREADS, else the
    CPU cores this process may use."""
    value = os.environ.get("GENKIT_SAMPLING_THREADS", "")
    if value.strip():
        try:
            return max(1, int(value))
        except ValueError:
            raise GenkitError(f"GENKIT_SAMPLING_THREADS must be a whole number, got {value!r}") from None
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def draw(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """One category per row of (B, K) logits at a temperature (0 = argmax), by inverse CDF."""
    return pick(logits, temperature, None if temperature == 0 else rng.random(len(logits)))


#: categories a block in pick_tf's two-level search
BLOCK = 8


def whole_number_scale(k: int) -> float:
    """What the draw multiplies exp(z) (at most 1) by to make its probabilities whole numbers:
    the largest power of two with which K of them still sum below 2**62 in int64 (2**54 for 167
    colours, 2**48 for 10,002 words). Whole-number sums are exact in any order, so numpy and XLA
    agree to the bit however each adds them."""
    return 2.0 ** (62 - max(1, k - 1).bit_length())


def pick(logits: np.ndarray, temperature: float, u: np.ndarray | None) -> np.ndarray:
    """:func:`draw` with its uniforms given: ``u`` (B,) in [0, 1) (unused when greedy).

    The inverse CDF in whole numbers: q = floor(exp(z) * scale) (:func:`whole_number_scale`)
    with z = (logits minus their maximum, in the logits' own precision) / T in float64; the draw
    is the number of running sums of q that are <= floor(u * sum q). Integer sums are exact in
    any order, so :func:`pick_tf` may find the same count another way."""
    logits = np.asarray(logits)
    if not np.issubdtype(logits.dtype, np.floating):
        logits = logits.astype(np.float64)
    if temperature == 0:
        return np.argmax(logits, axis=1)
    z = (logits - logits.max(axis=1, keepdims=True)).astype(np.float64) / temperature
    q = (np.exp(z) * whole_number_scale(logits.shape[1])).astype(np.int64)
    cdf = np.cumsum(q, axis=1)
    threshold = (u * cdf[:, -1].astype(np.float64)).astype(np.int64)
    return np.minimum((cdf <= threshold[:, None]).sum(axis=1), logits.shape[1] - 1)


def pick_tf(logits, temperature, u):
    """:func:`pick` in TensorFlow ops, for the compiled loop; int32 (B,). The same whole numbers,
    searched in two levels: the block of :data:`BLOCK` categories whose running total passes the
    threshold, then the category inside it (a running sum over all K categories costs XLA on the
    CPU a pass per doubling, or K^2 a row as a cumsum; these are a few small passes)."""
    k = logits.shape[1]

    def drawn():
        z = tf.cast(logits - tf.reduce_max(logits, axis=1, keepdims=True), tf.float64) / temperature
        q = tf.cast(tf.exp(z) * whole_number_scale(k), tf.int64)  # (B, K)
        nb = -(-k // BLOCK)
        q = tf.reshape(tf.pad(q, [[0, 0], [0, nb * BLOCK - k]]), (-1, nb, BLOCK))
        ends = tf.cumsum(tf.reduce_sum(q, axis=2), axis=1)  # (B, nb): the running total at each block's end
        threshold = tf.cast(u * tf.cast(ends[:, -1], tf.float64), tf.int64)
        block = tf.minimum(tf.reduce_sum(tf.cast(ends <= threshold[:, None], tf.int32), axis=1), nb - 1)
        before = tf.gather(tf.pad(ends, [[0, 0], [1, 0]]), block, batch_dims=1)
        inside = tf.cumsum(tf.gather(q, block, batch_dims=1), axis=1) + before[:, None]  # (B, BLOCK)
        count = block * BLOCK + tf.reduce_sum(tf.cast(inside <= threshold[:, None], tf.int32), axis=1)
        return tf.minimum(count, k - 1)

    return tf.cond(temperature > 0, drawn, lambda: tf.argmax(logits, axis=1, output_type=tf.int32))
