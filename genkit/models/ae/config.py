"""Settings of the ``ae`` family: the VAE's networks with a deterministic code and no KL term."""

from dataclasses import dataclass

from ..vae.config import CODE_LIMITS, CodeConfig

MODEL_CLASS = "AE"


@dataclass
class AEConfig(CodeConfig):
    pass


LIMITS = CODE_LIMITS
