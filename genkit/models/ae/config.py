"""Settings of the ``ae`` family: the VAE's networks with a deterministic code and no KL term."""

from dataclasses import dataclass
from typing import ClassVar

from ..vae.config import CodeConfig

MODEL_CLASS = "AE"


@dataclass
class AEConfig(CodeConfig):
    RETIRED: ClassVar[tuple] = ("beta",)  # an AE has no KL term to weigh
