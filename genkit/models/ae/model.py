"""The plain autoencoder: the VAE's networks with the code c = m (no noise) and no KL term.

It is the lecture's foil for the VAE: it reconstructs as well or better, but nothing asks the
space between two codes to decode to anything sensible (see the moon figure)."""

from __future__ import annotations

from .. import register
from ..vae.model import VAE


@register("ae")
class AE(VAE):
    deterministic = True
    headline = "rec"

    def __init__(self, height, width, palette, latent=10, hidden=256, channels=32, arch="conv",
                 likelihood="auto", **kwargs):
        kwargs.pop("beta", None)
        super().__init__(height, width, palette, latent=latent, hidden=hidden, channels=channels, arch=arch,
                         likelihood=likelihood, beta=0.0, **kwargs)
