"""Settings of the ``cvae`` family: a VAE whose encoder and decoder both see the class label."""

from dataclasses import dataclass

MODEL_CLASS = "CVAE"


@dataclass
class CVAEConfig:
    latent: int = 10
    hidden: int = 256
    channels: int = 32
    arch: str = "conv"
    likelihood: str = "auto"
    beta: float = 1.0
    classes: int = 10  # labels are 0 .. classes-1


#: bounds genkit.train checks before any work: KEY: (lowest, above-all) with None for no bound
LIMITS = {"latent": (1, None), "hidden": (1, None), "channels": (1, None), "beta": (0.0, None), "classes": (2, None)}
