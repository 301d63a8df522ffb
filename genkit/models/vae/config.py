"""Settings of the ``vae`` family (``gk-train vae --set KEY=VALUE``); no TensorFlow import.

``CodeConfig`` holds the networks' settings that the ``ae`` and ``cvae`` families share; each
family's own config (``MODEL_CLASS`` + ``Config``) adds what it has besides.
"""

from dataclasses import dataclass
from typing import ClassVar

from ...errors import GenkitError
from ..settings import Settings

MODEL_CLASS = "VAE"


@dataclass
class CodeConfig(Settings):
    latent: int = 10  # size of the code z
    hidden: int = 256  # width of the dense layers
    channels: int = 32  # conv width (doubled after the first down-sampling); arch=conv only
    arch: str = "conv"  # conv: strided convs / transposed convs; mlp: two dense layers each side
    likelihood: str = "auto"  # categorical (over the palette), bernoulli (ink), auto: bernoulli on a grey palette

    LIMITS: ClassVar[dict] = {"latent": (1, None), "hidden": (1, None), "channels": (1, None)}
    CHOICES: ClassVar[dict] = {"arch": ("conv", "mlp"), "likelihood": ("auto", "categorical", "bernoulli")}


@dataclass
class VAEConfig(CodeConfig):
    beta: float = 1.0  # weight of the KL term in the training loss (1 = the ELBO)
    iwae_k: int = 1  # importance samples per image in the training loss: 1 = the ELBO, K > 1 = the IWAE bound (Burda et al.)
    pixel_head: int = 0  # channels of an autoregressive pixel head (PixelVAE-style; bernoulli only): 0 = pixels independent given the code
    head_code: int = 2  # products of per-pixel code features with the pixel head (pixel_head > 0 only; 0: the code only adds)
    kl_floor: float = 0.0  # free bits: each image's KL counts as at least this many nats in the training loss (0: off)

    LIMITS: ClassVar[dict] = {**CodeConfig.LIMITS, "beta": (0.0, None), "iwae_k": (1, None), "pixel_head": (0, None),
                              "head_code": (0, None), "kl_floor": (0.0, None)}
    TRAINING_ONLY: ClassVar[tuple[str, ...]] = ("kl_floor",)

    def check(self) -> None:
        super().check()
        if self.iwae_k > 1 and self.beta != 1.0:
            raise GenkitError(f"iwae_k={self.iwae_k} trains on the IWAE bound, which has no KL weight: leave beta at 1")
        if self.iwae_k > 1 and self.kl_floor > 0:
            raise GenkitError(f"iwae_k={self.iwae_k} trains on the IWAE bound, which has no KL term: leave kl_floor at 0")
