"""Settings of the ``cvae`` family: a VAE whose encoder and decoder both see the class label."""

from dataclasses import dataclass

from ..vae import config as vae

MODEL_CLASS = "CVAE"


@dataclass
class CVAEConfig(vae.VAEConfig):
    classes: int = 10  # labels are 0 .. classes-1


LIMITS = {**vae.LIMITS, "classes": (2, None)}
