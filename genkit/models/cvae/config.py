"""Settings of the ``cvae`` family: a VAE whose encoder and decoder both see the class label."""

from dataclasses import dataclass
from typing import ClassVar

from ..vae.config import VAEConfig

MODEL_CLASS = "CVAE"


@dataclass
class CVAEConfig(VAEConfig):
    classes: int = 10  # labels are 0 .. classes-1

    LIMITS: ClassVar[dict] = {**VAEConfig.LIMITS, "classes": (2, None)}
