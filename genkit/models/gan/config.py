"""Settings of the ``gan`` family (``gk-train gan --set KEY=VALUE``); no TensorFlow import."""

from dataclasses import dataclass
from typing import ClassVar

from ..settings import Settings

MODEL_CLASS = "GAN"


@dataclass
class GANConfig(Settings):
    latent: int = 64  # size of the noise vector z ~ N(0, I)
    channels: int = 32  # G's last hidden conv and D's first conv; the layer next to them has twice as many
    d_steps: int = 1  # discriminator updates per generator update (each on the same real batch, fresh noise)
    beta1: float = 0.5  # Adam's first-moment decay for both players (DCGAN's 0.5; Keras' default is 0.9)
    norm: str = "batch"  # batch: batch norm in G (synchronized across replicas); none: no normalisation

    LIMITS: ClassVar[dict] = {"latent": (1, None), "channels": (1, None), "d_steps": (1, None), "beta1": (0.0, 1.0)}
    CHOICES: ClassVar[dict] = {"norm": ("batch", "none")}
