"""What every pixel model shares: the palette it speaks, the loss, likelihoods and the sampler.

A pixel model maps palette indices (B, H, W) to logits (B, H, W, K), where the logits at a
pixel may depend only on the pixels before it in raster order. Each family supplies a
*stepper* that produces the logits of one pixel after another, reusing what it computed for
the earlier pixels (LSTM states, cached conv rows): sampling and completion are then H*W
steps, never a re-run over the whole prefix per pixel.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ..errors import GenkitError
from ..io import Stream, read_stream
from ..text import Sentences
from .capabilities import Completes, Evaluates, Interpolates, PixelNLL, Samples
from .compiled import use_compilation_cache
from .raster import (  # noqa: F401  (re-exported: the families and tests import them from here)
    RasterSampling, ReadsImages, completed_stream, completion_inputs, completion_sheet, draw, pick, pick_tf,
    read_one, sampling_threads)

LN2 = math.log(2.0)


use_compilation_cache()


class Trainable:
    """What genkit.train asks of every family (mixed into each family's keras.Model)."""

    #: the key of ``report`` that the training log and model selection speak in, and its unit
    headline = "loss"
    headline_unit = ""
    #: the split the weights are fitted on (genkit.splits); "val" still picks the best epoch. A
    #: family made of models trained on "fit" (the mixture) fits its few own weights on "val"
    fit_split = "fit"

    def card_notes(self, metrics: dict) -> tuple[str, list[str]]:
        """What a model card (scripts/modelcard.py) adds for this model beyond its evaluation's
        rows: a clause for the split row and rows of its own (none by default)."""
        return "", []

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


class PixelModel(RasterSampling, PaletteImageModel, Samples, Completes, Evaluates):
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

    def sample_row(self, r, canvas, state) -> tuple:
        """The state at the start of row r, before :meth:`sample_logits` of its first pixel; called
        for r = 0, 1, ... in order (row 0 too). ``canvas`` holds every row < r. By default the
        state as it is; a model with per-row work (PixelCNN's vertical stack) does it here, once a
        row, outside the loop over the row's pixels."""
        return state

    def row_state(self, state) -> tuple:
        """What the next row starts from, given the state after a row's last pixel: by default the
        state as it is. A family whose :meth:`sample_row` remakes part of the state at every row
        (the PixelCNN's links) puts a placeholder there, so that the loop over rows does not carry
        that part, and XLA does not copy it at every row. The tuple keeps its length."""
        return state

    def sample_logits(self, t, canvas, state) -> tuple:
        """(logits (B, K) of raster position t, the state after it), in TensorFlow ops; ``canvas``
        (H*W, B) int32, raster position first, holds every pixel < t. Called for t = 0, 1, ...
        in order, after :meth:`sample_row` at each row's start, inside the compiled loop
        (:meth:`_sample_batch`) or one call at a time (:meth:`stepper`)."""
        raise NotImplementedError

    @staticmethod
    def output_layer(x, dense):
        """``dense`` (a Keras Dense layer) applied to ``x`` (B, n) in TensorFlow ops, for the
        sampling step: its kernel padded with zero columns to a multiple of 64 and the product
        cut back (XLA's product with 167 columns ran about a third slower than with 192; the pad
        depends on the weights alone, so XLA computes it once, outside the loop)."""
        k = dense.kernel.shape[1]
        return tf.matmul(x, tf.pad(dense.kernel, [[0, 0], [0, -k % 64]]))[:, :k] + dense.bias

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
            return r + 1, canvas, self.row_state(state)

        state = self.sample_state(tf.shape(canvas)[1])
        _, canvas, _ = tf.while_loop(lambda r, *_: r < self.height, row, (tf.constant(0), canvas, state))
        return canvas

    def naive_logits(self, t: int, canvas: np.ndarray) -> np.ndarray:
        """The same logits by running the whole model on the canvas (for tests and benchmarks)."""
        logits = self.forward(canvas.reshape(-1, self.height, self.width))
        r, c = divmod(t, self.width)
        return ops.convert_to_numpy(logits[:, r, c, :])

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
            state = self.state if t == 0 else self.model.row_state(self.state)
            self.state = self.model._row(tf.constant(t // self.model.width), canvas, state)
        logits, self.state = self.model._step(tf.constant(t), canvas, self.state)
        self.next_t = t + 1
        return logits.numpy()
