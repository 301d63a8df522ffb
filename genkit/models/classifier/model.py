"""A small convnet classifier of grey images (digits): the judge of ``genkit.realness``.

conv 3x3 (channels) -> max-pool -> conv 3x3 (2·channels) -> max-pool -> dense (hidden, ReLU:
the **features**) -> dropout -> dense (classes). It reads grey levels in [0, 1] (a palette
stream's luminance), so it judges any 28x28 grey image: MNIST digits, a GAN's samples, a VAE's
ink probabilities. It trains in genkit's one loop on labelled streams (``gk-train classifier
--dataset mnist``) with the cross-entropy; the best epoch is picked by the val cross-entropy.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from ...color import grey_levels
from ...errors import GenkitError
from ...io import Stream
from .. import register
from ..base import Trainable
from ..capabilities import Accuracy, Evaluates
from .config import ClassifierConfig


@register("classifier")
class Classifier(Trainable, Evaluates, keras.Model):
    """Grey image (H, W) in [0, 1] -> logits over ``classes``; ``features`` is the layer before."""

    config_class = ClassifierConfig  # the settings, their defaults and bounds
    headline = "accuracy"
    headline_unit = "accuracy"

    def __init__(self, height, width, **settings):
        config, rest = self.config_class.split(settings)
        super().__init__(**rest)
        self.config = config
        self.height, self.width = int(height), int(width)
        if config.classes < 2:
            raise GenkitError(f"a classifier needs at least 2 classes, got {config.classes}")
        if self.height < 4 or self.width < 4:
            raise GenkitError(f"images must be at least 4x4, got {self.width}x{self.height}")
        self.classes, self.channels, self.hidden, self.dropout = config.classes, config.channels, config.hidden, config.dropout
        self.body = [
            layers.Conv2D(self.channels, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(2 * self.channels, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flat"),
            layers.Dense(self.hidden, activation="relu", name="features"),
        ]
        self.drop = layers.Dropout(self.dropout, name="drop")
        self.out = layers.Dense(self.classes, name="logits")

    def get_config(self) -> dict:
        return {"name": self.name, "height": self.height, "width": self.width, **dataclasses.asdict(self.config)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # -- the network ---------------------------------------------------------------------------
    def features(self, x, training=False):
        h = ops.expand_dims(ops.cast(x, "float32"), -1)
        for layer in self.body:
            h = layer(h)
        return h

    def call(self, x, training=False):
        return self.out(self.drop(self.features(x), training=training))

    def build_for_data(self) -> None:
        self(np.zeros((1, self.height, self.width), np.float32))

    @tf.function(reduce_retracing=True)
    def _forward(self, x):
        f = self.features(x)
        return f, self.out(f)

    def features_and_labels(self, x: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Features (N, hidden) float32 and most likely labels (N,) of grey levels x (N, H, W)."""
        feats, logits = [], []
        for i in range(0, len(x), batch_size):
            f, lg = self._forward(tf.constant(np.asarray(x[i : i + batch_size], np.float32)))
            feats.append(ops.convert_to_numpy(f))
            logits.append(ops.convert_to_numpy(lg))
        if not feats:
            return np.zeros((0, self.hidden), np.float32), np.zeros(0, np.int64)
        logits = np.concatenate(logits)
        return np.concatenate(feats), logits.argmax(-1)

    # -- training (genkit.train) ---------------------------------------------------------------
    @classmethod
    def check_training_data(cls, stream: Stream) -> None:
        if stream.labels is None:
            raise GenkitError("a classifier needs class labels in the stream (e.g. --dataset mnist)")

    @classmethod
    def for_stream(cls, stream: Stream, **config):
        top = int(stream.labels.max()) + 1 if len(stream) else 0
        classes = int(config.pop("classes", 0) or max(top, 2))
        if top > classes:
            raise GenkitError(f"the stream has labels up to {top - 1} but classes={classes}")
        return cls(stream.size[0], stream.size[1], classes=classes, **config)

    def train_arrays(self, stream: Stream) -> tuple:
        grey = np.rint(grey_levels(stream, self.height, self.width) * 255).astype(np.uint8)
        return grey, stream.labels.astype(np.int32)

    def make_example(self, rows, seed, *, training, flip):
        return tf.cast(rows[0], tf.float32) / 255.0, rows[1]

    def compile_for_training(self, lr: float) -> None:
        self.compile(optimizer=keras.optimizers.Adam(lr),
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])

    def report(self, logs: dict) -> dict:
        acc = float(logs["accuracy"])
        return {"loss": float(logs["loss"]), "accuracy": acc, "error": 1.0 - acc}

    # -- what the commands call ------------------------------------------------------------------
    def sample_stream(self, n, **kwargs):
        raise GenkitError("a classifier draws no images (gk-eval measures its accuracy)")

    def evaluate_stream(self, stream: Stream, batch_size: int = 256, *, k=None, seed: int = 0, progress=None) -> dict:
        """gk-eval: accuracy and cross-entropy (nats per image) on a labelled stream."""
        if stream.labels is None:
            raise GenkitError("the classifier's accuracy needs labelled images (e.g. --dataset mnist)")
        x = grey_levels(stream, self.height, self.width)
        y = np.asarray(stream.labels, np.int64)
        logits = []
        for i in range(0, len(x), batch_size):
            logits.append(ops.convert_to_numpy(self._forward(tf.constant(x[i : i + batch_size]))[1]).astype(np.float64))
        logits = np.concatenate(logits)
        top = logits.max(-1, keepdims=True)
        logp = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
        inside = (y >= 0) & (y < self.classes)
        ce = -logp[np.arange(len(y))[inside], y[inside]].mean() if inside.any() else float("nan")
        acc = float((logits.argmax(-1) == y).mean())
        return Accuracy({"model": self.family, "images": len(x), "accuracy": acc, "error": 1.0 - acc,
                         "cross_entropy_nats": float(ce)})
