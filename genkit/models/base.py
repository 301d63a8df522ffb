"""What every pixel model shares: the palette it speaks, the loss, likelihoods and the sampler.

A pixel model maps palette indices (B, H, W) to logits (B, H, W, K), where the logits at a
pixel may depend only on the pixels before it in raster order. Each family supplies a
*stepper* that produces the logits of one pixel after another, reusing what it computed for
the earlier pixels (LSTM states, cached conv rows): sampling and completion are then H*W
steps, never a re-run over the whole prefix per pixel.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import os
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ..errors import GenkitError
from ..io import Stream, read_stream
from ..text import Sentences
from .capabilities import Completes, Evaluates, Interpolates, PixelNLL, Samples

LN2 = math.log(2.0)


def use_compilation_cache() -> Path | None:
    """Keep XLA's compiled sampling loops on disk, so that a later process skips the compile:
    in $GENKIT_CACHE/xla, else $XDG_CACHE_HOME/genkit/xla, else ~/.cache/genkit/xla. Nothing is
    changed where TF_XLA_FLAGS already names a cache, or the folder cannot be made. Must run
    before TensorFlow's first XLA compile (it reads TF_XLA_FLAGS then); returns the folder."""
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if "persistent_cache_directory" in flags:
        return None
    root = os.environ.get("GENKIT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "genkit"
    folder = Path(root) / "xla"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={folder}".strip()
    return folder


use_compilation_cache()


class Trainable:
    """What genkit.train asks of every family (mixed into each family's keras.Model)."""

    #: the key of ``report`` that the training log and model selection speak in, and its unit
    headline = "loss"
    headline_unit = ""

    @classmethod
    def check_training_data(cls, stream: Stream) -> None:
        """Raise GenkitError if the family cannot learn from this stream."""

    @classmethod
    def for_stream(cls, stream: Stream, **config):
        """A fresh model for images like the stream's (an image model also records how they
        were cropped or resized, for genkit.adapt)."""
        model = cls(stream.size[0], stream.size[1], stream.palette, **config)
        if isinstance(model, ReadsImages):
            from ..adapt import preparation

            model.input_prep = preparation(stream.meta)
        return model

    def train_arrays(self, stream: Stream) -> tuple:
        """The per-example numpy arrays the data pipeline gathers rows from."""
        raise NotImplementedError

    def example_sizes(self, arrays: tuple) -> np.ndarray | None:
        """The work each example costs (e.g. its length in tokens), for batching like with like;
        None when every example costs the same."""
        return None

    def make_example(self, rows: tuple, seed, *, training: bool, flip: bool):
        """(inputs, targets) of one example from one row of each array; ``seed`` is a
        stateless int64 pair unique to (run seed, epoch, example) for every random draw."""
        raise NotImplementedError

    def compile_for_training(self, lr: float) -> None:
        self.compile(optimizer=keras.optimizers.Adam(lr), loss=self.loss_fn())

    def build_optimizer_state(self) -> None:
        """Create the optimizer's variables, so that a checkpoint's state can be loaded into them."""
        self.optimizer.build(self.trainable_variables)

    def set_learning_rate(self, lr: float) -> None:
        """Every optimizer's learning rate (a resumed run's ``--lr``: a checkpoint holds its own)."""
        self.optimizer.learning_rate.assign(lr)

    def report(self, logs: dict) -> dict:
        """Keras logs (loss, metrics) -> named values in the family's units."""
        return {"loss": float(logs["loss"])}


def flip_image(x, seed):
    """x (H, W, ...) mirrored left-right with probability 1/2, by a stateless coin."""
    coin = tf.random.stateless_uniform([], seed=seed)
    return tf.cond(coin < 0.5, lambda: tf.reverse(x, axis=[1]), lambda: x)


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


class PaletteImageModel(ReadsImages, Trainable, keras.Model):
    """What the models of palette-coded images (B, H, W) -> logits (B, H, W, K) share: the
    checkpoint config, the compiled forward pass, the training data they take and their headline
    in bits per pixel. Subclasses: :class:`PixelModel`, the masked family (not registered itself)."""

    family = "?"
    headline = "bits_per_pixel"
    headline_unit = "bits/px"

    #: the family's settings dataclass (genkit.models.settings.Settings)
    config_class: type

    def __init__(self, height: int, width: int, palette, **settings):
        config, rest = self.config_class.split(self._take_input_prep(settings))
        super().__init__(**rest)
        self.config = config
        self.height, self.width = int(height), int(width)
        self.palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        self.num_colors = len(self.palette)

    # -- config: what a checkpoint needs to rebuild the model ----------------------------
    def family_config(self) -> dict:
        return dataclasses.asdict(self.config)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "height": self.height,
            "width": self.width,
            "palette": self.palette.tolist(),
            **self.family_config(),
            **self._input_prep_config(),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def build_for_data(self) -> None:
        """Create the weights by running one tiny batch."""
        self(np.zeros((1, self.height, self.width), dtype=np.int32))

    @tf.function(reduce_retracing=True)
    def forward(self, indices):
        """The compiled inference pass: logits (B, H, W, K)."""
        return self(indices, training=False)

    # -- training -----------------------------------------------------------------------
    @classmethod
    def check_training_data(cls, stream: Stream) -> None:
        if not stream.is_palette:
            raise GenkitError("training data must be palette-coded; quantize it first (gk-quantize ... | gk-train)")

    def train_arrays(self, stream: Stream) -> tuple:
        return (stream.indices.astype(np.int32),)

    def report(self, logs: dict) -> dict:
        return {"bits_per_pixel": float(logs["loss"]) / LN2}


class PixelModel(PaletteImageModel, Samples, Completes, Evaluates):
    """Base class of the autoregressive pixel models (not registered itself)."""

    def build(self, input_shape=None):
        """Create the weights from the config alone (loading a checkpoint then skips a symbolic
        run of the whole model): each layer's ``build`` with its input shape (:meth:`build_layers`)."""
        self.build_layers()
        self.built = True

    def build_layers(self) -> None:
        raise NotImplementedError

    def make_example(self, rows, seed, *, training, flip):
        x = rows[0]
        if flip:
            x = flip_image(x, seed)
        return x, x

    def loss_fn(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def nll_nats(self, indices: np.ndarray, batch_size: int = 64, progress=None) -> np.ndarray:
        """Negative log-likelihood of each image in nats, (N,); ``progress(n)`` after each batch."""
        out = []
        for i in range(0, len(indices), batch_size):
            x = np.asarray(indices[i : i + batch_size], dtype=np.int32)
            logits = self.forward(x)
            logp = ops.log_softmax(logits, axis=-1)
            picked = ops.take_along_axis(logp, ops.expand_dims(x, -1), axis=-1)
            out.append(-ops.convert_to_numpy(ops.sum(picked, axis=(1, 2, 3))))
            if progress:
                progress(len(x))
        return np.concatenate(out).astype(np.float64)

    # -- sampling -------------------------------------------------------------------------
    def sample_state(self, batch) -> tuple:
        """The caches of the sampling loop before pixel 0, for ``batch`` images (a tuple of tensors)."""
        raise NotImplementedError

    #: split a batch among threads (:meth:`_sample_parallel`): for a family whose sampling step is
    #: many small products, which one XLA program runs on about one core
    parallel_sampling = False

    def sample_row(self, r, canvas, state) -> tuple:
        """The state at the start of row r, before :meth:`sample_logits` of its first pixel; called
        for r = 0, 1, ... in order (row 0 too). ``canvas`` holds every row < r. By default the
        state as it is; a model with per-row work (PixelCNN's vertical stack) does it here, once a
        row, outside the loop over the row's pixels."""
        return state

    def sample_logits(self, t, canvas, state) -> tuple:
        """(logits (B, K) of raster position t, the state after it), in TensorFlow ops; ``canvas``
        (H*W, B) int32, raster position first, holds every pixel < t. Called for t = 0, 1, ...
        in order, after :meth:`sample_row` at each row's start, inside the compiled loop
        (:meth:`_sample_batch`) or one call at a time (:meth:`stepper`)."""
        raise NotImplementedError

    def stepper(self, batch: int) -> "Stepper":
        """The sampling loop one pixel at a time from Python (for tests and benchmarks)."""
        return Stepper(self, batch)

    @tf.function(autograph=False, reduce_retracing=True)
    def _step(self, t, canvas, state):
        return self.sample_logits(t, canvas, state)

    @tf.function(autograph=False, reduce_retracing=True)
    def _row(self, r, canvas, state):
        return self.sample_row(r, canvas, state)

    @tf.function(autograph=False, jit_compile=True, input_signature=[
        tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.bool),
        tf.TensorSpec([None, None], tf.float64), tf.TensorSpec([], tf.float64)])
    def _sample_batch(self, canvas, given, uniforms, temperature):
        """The whole raster loop as one XLA program: ``canvas`` (H*W, B) with the given pixels
        (``given`` True) in place; pixel t is drawn by :func:`pick` from ``uniforms[t]`` (B,).
        A loop over rows (:meth:`sample_row`) around a loop over the row's pixels."""
        w = self.width

        def pixel(t, canvas, state):
            logits, state = self.sample_logits(t, canvas, state)
            drawn = pick_tf(logits, temperature, tf.gather(uniforms, t))
            row = tf.where(tf.gather(given, t), tf.gather(canvas, t), drawn)
            return t + 1, tf.tensor_scatter_nd_update(canvas, t[None, None], row[None]), state

        def row(r, canvas, state):
            state = self.sample_row(r, canvas, state)
            _, canvas, state = tf.while_loop(lambda t, *_: t < (r + 1) * w, pixel, (r * w, canvas, state))
            return r + 1, canvas, state

        state = self.sample_state(tf.shape(canvas)[1])
        _, canvas, _ = tf.while_loop(lambda r, *_: r < self.height, row, (tf.constant(0), canvas, state))
        return canvas

    def naive_logits(self, t: int, canvas: np.ndarray) -> np.ndarray:
        """The same logits by running the whole model on the canvas (for tests and benchmarks)."""
        logits = self.forward(canvas.reshape(-1, self.height, self.width))
        r, c = divmod(t, self.width)
        return ops.convert_to_numpy(logits[:, r, c, :])

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

    def evaluate_stream(self, stream: Stream, batch_size: int = 64, *, k: int | None = None, seed: int = 0,
                        progress=None) -> PixelNLL:
        """gk-eval: the exact negative log-likelihood of the stream, in bits per pixel and nats per
        image (``k`` and ``seed`` are unused: nothing is estimated)."""
        stream = self.as_model_stream(stream)
        nats = self.nll_nats(stream.indices, batch_size=batch_size, progress=progress)
        hw = self.height * self.width
        return PixelNLL({
            "model": self.family,
            "images": len(stream),
            "bits_per_pixel": float(nats.mean() / (hw * LN2)),
            "nats_per_image": float(nats.mean()),
        })


# -- capabilities over what a family already provides ------------------------------------------------
class InterpolatesImages(Interpolates):
    """Interpolation between the codes of two images (two files, or one file holding two), by the
    family's ``interpolate_stream(a, b, steps)``."""

    def interpolation_ends(self, args: list[str], *, note=None, **options) -> tuple[Stream, Stream]:
        """The two images, each brought onto the model's input (genkit.adapt; ``note`` hears how)."""
        if options.get("seed_a") is not None or options.get("seed_b") is not None:
            raise GenkitError("--seed-a/--seed-b go with a GAN")
        if len(args) == 1:
            pair = self.as_model_stream(read_stream(args), note)
            if len(pair) != 2:
                raise GenkitError(f"one input file must hold exactly two images, it holds {len(pair)}", source=args[0])
            return pair.select(slice(0, 1)), pair.select(slice(1, 2))
        if len(args) == 2:
            return tuple(self.as_model_stream(read_one(path, "an input"), note) for path in args)
        raise GenkitError(f"give two images (or one file holding two), got {len(args)} inputs")

    def interpolate(self, a: Stream, b: Stream, steps: int, **options) -> Stream:
        return self.interpolate_stream(a, b, steps)


class InterpolatesNoise(Interpolates):
    """A generator's walk between the first noise vectors of two seeds (--seed-a, --seed-b), by
    the family's ``walk_stream(seed_a, seed_b, steps)``."""

    def interpolation_ends(self, args: list[str], **options) -> tuple[int, int]:
        seed_a, seed_b = options.get("seed_a"), options.get("seed_b")
        if args or seed_a is None or seed_b is None:
            raise GenkitError("a GAN walks between two noise vectors: give --seed-a and --seed-b, no images")
        return seed_a, seed_b

    def interpolate(self, a: int, b: int, steps: int, **options) -> Stream:
        return self.walk_stream(a, b, steps)


class InterpolatesSentences(Interpolates):
    """Interpolation between the codes of two sentences, by the family's ``interpolate_text``;
    reads ``decode``, ``temperature``, ``seed`` and ``warn``."""

    def interpolation_ends(self, args: list[str], **options) -> tuple[str, str]:
        if len(args) != 2:
            raise GenkitError(f"give two sentences, got {len(args)}")
        return args[0], args[1]

    def interpolate(self, a: str, b: str, steps: int, *, decode: str = "greedy", temperature: float = 1.0, seed: int = 0,
                    warn=None, **options) -> Sentences:
        return Sentences(self.interpolate_text(a, b, steps, decode=decode, temperature=temperature, seed=seed, warn=warn))


class SamplesSentences(Samples):
    """Sampling of sentences, by the family's ``sample_text``."""

    def sample_stream(self, n: int, *, temperature: float = 1.0, seed: int = 0, batch_size: int = 64,
                      progress=None, **options) -> Sentences:
        return Sentences(self.sample_text(n, temperature=temperature, seed=seed, batch_size=batch_size, progress=progress))


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


def pick(logits: np.ndarray, temperature: float, u: np.ndarray | None) -> np.ndarray:
    """:func:`draw` with its uniforms given: ``u`` (B,) in [0, 1) (unused when greedy)."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return np.argmax(logits, axis=1)
    z = logits / temperature
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    cdf = prefix_sums(p, lambda x, s: np.pad(x, [(0, 0), (s, 0)])[:, : x.shape[1]])
    u = u * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=1), p.shape[1] - 1)


def prefix_sums(x, shifted):
    """The running sums along axis 1 of (B, K) ``x`` in log2(K) rounds (Hillis & Steele):
    x + x shifted right by 1, 2, 4, ... with zeros coming in (``shifted(x, s)``). The same
    additions in the same order in numpy and in TensorFlow, so :func:`pick` and :func:`pick_tf`
    agree to the bit; XLA's cumsum costs K^2 a row on the CPU, this K log K."""
    s = 1
    while s < x.shape[1]:
        x = x + shifted(x, s)
        s *= 2
    return x


def pick_tf(logits, temperature, u):
    """:func:`pick` in TensorFlow ops (float64 as there), for the compiled loop; int32 (B,)."""
    logits = tf.cast(logits, tf.float64)
    greedy = tf.argmax(logits, axis=1, output_type=tf.int32)
    z = logits / tf.where(temperature > 0, temperature, tf.constant(1.0, tf.float64))
    z = z - tf.reduce_max(z, axis=1, keepdims=True)
    cdf = prefix_sums(tf.exp(z), lambda x, s: tf.pad(x, [[0, 0], [s, 0]])[:, : x.shape[1]])
    below = tf.cast(cdf < (u * cdf[:, -1])[:, None], tf.int32)
    drawn = tf.minimum(tf.reduce_sum(below, axis=1), tf.shape(logits)[1] - 1)
    return tf.where(temperature > 0, drawn, greedy)


class Stepper:
    """:meth:`PixelModel.sample_logits` called from Python: ``logits(t, canvas)`` gives the
    (B, K) logits of raster position t for t = 0, 1, ... in order (t = 0 starts over);
    ``canvas`` (B, H*W) int32 holds every pixel < t."""

    def __init__(self, model: PixelModel, batch: int):
        self.model, self.batch, self.next_t, self.state = model, batch, 0, None

    def logits(self, t: int, canvas: np.ndarray) -> np.ndarray:
        if t == 0:
            self.state = self.model.sample_state(self.batch)
        elif t != self.next_t:
            raise ValueError(f"the stepper expects raster position {self.next_t}, got {t}")
        canvas = tf.constant(np.ascontiguousarray(np.asarray(canvas, np.int32).T))
        if t % self.model.width == 0:
            self.state = self.model._row(tf.constant(t // self.model.width), canvas, self.state)
        logits, self.state = self.model._step(tf.constant(t), canvas, self.state)
        self.next_t = t + 1
        return logits.numpy()
