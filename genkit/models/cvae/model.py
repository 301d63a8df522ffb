"""The conditional VAE (Sohn et al. 2015; Kingma et al. 2014's M2 without the classifier): the
encoder and the decoder both see the class label as a one-hot vector, so the code is free to hold
what the label does not say — the handwriting style — and decoding one code with other labels
draws the same style as other digits."""

from __future__ import annotations

from .. import register
from ..capabilities import Conditional
from ..vae.model import VAE


@register("cvae")
class CVAE(VAE, Conditional):
    conditional = True

    def __init__(self, height, width, palette, latent=10, hidden=256, channels=32, arch="conv",
                 likelihood="auto", beta=1.0, classes=10, **kwargs):
        super().__init__(height, width, palette, latent=latent, hidden=hidden, channels=channels, arch=arch,
                         likelihood=likelihood, beta=beta, classes=classes, **kwargs)
