"""The conditional VAE (Sohn et al. 2015; Kingma et al. 2014's M2 without the classifier): the
encoder and the decoder both see the class label as a one-hot vector, so the code is free to hold
what the label does not say — the handwriting style — and decoding one code with other labels
draws the same style as other digits."""

from __future__ import annotations

import numpy as np
from keras import ops

from ...errors import GenkitError
from ...io import Stream, checked_labels
from .. import register
from ..capabilities import Conditional
from ..vae.model import VAE
from .config import CVAEConfig


@register("cvae")
class CVAE(VAE, Conditional):
    conditional = True
    config_class = CVAEConfig

    def condition(self, h, label):
        """The features with the label, one-hot, beside them."""
        return ops.concatenate([h, ops.one_hot(ops.cast(label, "int32"), self.config.classes)], axis=-1)

    # -- training (genkit.train) --------------------------------------------------------------
    @classmethod
    def check_training_data(cls, stream: Stream) -> None:
        super().check_training_data(stream)
        if stream.labels is None:
            raise GenkitError(f"{cls.family} needs class labels in the stream (e.g. --dataset mnist)")

    @classmethod
    def for_stream(cls, stream: Stream, **config):
        model = super().for_stream(stream, **config)
        stream.class_labels(model.config.classes, cls.family)
        return model

    def train_arrays(self, stream: Stream) -> tuple:
        return super().train_arrays(stream) + (stream.class_labels(self.config.classes, self.family),)

    # -- labels --------------------------------------------------------------------------------
    def labels_of(self, stream: Stream | None, labels=None) -> np.ndarray:
        """The stream's labels (or ``labels``), checked against ``classes``."""
        if labels is None:
            if stream.labels is None:
                raise GenkitError(f"a {self.family} model needs each image's label (the stream has none)")
            labels = stream.labels
        return checked_labels(labels, self.config.classes)

    def sample_labels(self, n: int, labels=None) -> np.ndarray:
        """``labels`` repeated to ``n``, or 0, 1, 2, ... in turn."""
        return np.arange(n) % self.config.classes if labels is None else self.labels_of(None, np.resize(labels, n))

    def grid_label(self, at: Stream | None, label: int | None) -> int:
        """``label``, else the label of the image ``at``, else 0."""
        if label is None:
            label = int(self.labels_of(at)[0]) if at is not None and at.labels is not None else 0
        return label

    def line_label(self, a: Stream, b: Stream) -> int:
        """The label a and b share (a line between two labels is refused)."""
        ya, yb = self.labels_of(a)[0], self.labels_of(b)[0]
        if ya != yb:
            raise GenkitError(f"the two images have different labels ({ya} and {yb}); a conditional line needs one")
        return ya

    # -- what the commands call ----------------------------------------------------------------
    def style_stream(self, images: Stream, labels, label: int | None = None) -> Stream:
        """The CVAE's style transfer: encode each image with its own label and decode its code
        with each of ``labels`` (the lecture's "same style, other digits"): one row per image."""
        own = self.labels_of(images, None if label is None else [label] * len(images))
        m = self.encode_stream(images, own)[0]
        labels = self.labels_of(None, labels)
        out = self.decode_codes(np.repeat(m, len(labels), axis=0), np.tile(labels, len(m)),
                                {"style_labels": [int(v) for v in own], "cols": len(labels)})
        out.labels = np.tile(labels, len(m)).astype(np.int64)
        return out
