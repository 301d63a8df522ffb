"""Settings of the ``ae`` family: the VAE's networks with a deterministic code and no KL term."""

from dataclasses import dataclass

MODEL_CLASS = "AE"


@dataclass
class AEConfig:
    latent: int = 10
    hidden: int = 256
    channels: int = 32
    arch: str = "conv"
    likelihood: str = "auto"


#: bounds genkit.train checks before any work: KEY: (lowest, above-all) with None for no bound
LIMITS = {"latent": (1, None), "hidden": (1, None), "channels": (1, None)}
