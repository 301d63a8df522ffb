"""The plain autoencoder: the VAE's networks with the code c = m (no noise) and no KL term.

It is the lecture's foil for the VAE: it reconstructs as well or better, but nothing asks the
space between two codes to decode to anything sensible (see the moon figure)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from keras import ops

from ...io import Stream
from .. import register
from ..base import LN2
from ..capabilities import Reconstruction
from ..vae.model import VAE, ELBOLoss
from .config import AEConfig


@register("ae")
class AE(VAE):
    config_class = AEConfig
    headline = "rec"

    def code(self, m, logvar, eps):
        """The code is the encoder's mean: no noise."""
        return m

    def kl(self, m, logvar):
        """No KL term: zeros, (B,)."""
        return ops.zeros_like(m[:, 0])

    def loss_fn(self):
        return ELBOLoss(0.0)

    def report(self, logs: dict) -> dict:
        rec = float(logs["rec"])
        return {"rec": rec, "bits_per_pixel": rec / (self.height * self.width * LN2)}

    @tf.function(reduce_retracing=True)
    def _rec_fn(self, x):
        m, _ = self.encode(x)
        return -self.log_px(x, self.decode(m))

    def evaluate_stream(self, stream: Stream, batch_size: int = 64, *, k: int | None = None, seed: int = 0,
                        progress=None) -> Reconstruction:
        """gk-eval: the reconstruction −log p(x | c = m) in nats per image, and in bits per pixel; an
        AE has no posterior to sample (``k`` is not used). Bernoulli models score a fixed
        binarization (seed)."""
        x = self.targets_of(stream, seed)
        rec = []
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            rec.append(ops.convert_to_numpy(self._rec_fn(self._x_tensor(xb))).astype(np.float64))
            if progress:
                progress(len(xb))
        rec = np.concatenate(rec) if rec else np.zeros(0)
        return Reconstruction({"model": self.family, "images": len(x), "rec_nats": float(rec.mean()),
                               "bits_per_pixel": float(rec.mean() / (self.height * self.width * LN2))})
