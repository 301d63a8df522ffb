"""Settings of the ``gan`` family (``gk-train gan --set KEY=VALUE``); no TensorFlow import."""

from dataclasses import dataclass
from typing import ClassVar

from ...errors import GenkitError
from ..settings import Settings

MODEL_CLASS = "GAN"


@dataclass
class GANConfig(Settings):
    latent: int = 64  # size of the noise vector z ~ N(0, I)
    channels: int = 32  # G's last hidden conv and D's first conv; the layer next to them has twice as many
    d_steps: int = 1  # discriminator updates per generator update (each on the same real batch, fresh noise)
    beta1: float = 0.5  # Adam's first-moment decay for both players (DCGAN's 0.5; Keras' default is 0.9)
    norm: str = "batch"  # batch: batch norm in G (synchronized across replicas); none: no normalisation
    ema: float = 0.999  # samples come from an exponential moving average of G's weights with this decay; 0: G itself
    d_lr: float = 1.0  # D's learning rate as a multiple of --lr (two time-scale update rule when != 1)
    augment: str = "none"  # what D sees, real and fake alike (DiffAugment, differentiable): none, or a comma list of translation, cutout, color
    d_norm: str = "none"  # D's weights: none, or spectral (each layer's kernel divided by its largest singular value; Miyato et al. 2018)
    classes: int = 0  # 0: unconditional; N: G and D also see the class label (one of N), and samples take labels 0, 1, ... in turn (--labels)

    LIMITS: ClassVar[dict] = {"latent": (1, None), "channels": (1, None), "d_steps": (1, None), "beta1": (0.0, 1.0),
                              "ema": (0.0, 1.0), "d_lr": (1e-6, None), "classes": (0, None)}
    CHOICES: ClassVar[dict] = {"norm": ("batch", "none"), "d_norm": ("none", "spectral")}
    #: what a checkpoint that predates a setting was trained with (not today's default)
    BEFORE: ClassVar[dict] = {"ema": 0.0, "d_norm": "none", "classes": 0}

    def check(self) -> None:
        policies = [p for p in self.augment.split(",") if p] if self.augment != "none" else []
        unknown = sorted(set(policies) - set(AUGMENTS))
        if unknown or not policies and self.augment != "none":
            raise GenkitError(f"augment must be none or a comma list of {', '.join(AUGMENTS)}, got {self.augment!r}")

    @property
    def policies(self) -> tuple[str, ...]:
        return () if self.augment == "none" else tuple(p for p in self.augment.split(",") if p)


#: DiffAugment's policies (Zhao et al. 2020), applied in this order
AUGMENTS = ("color", "translation", "cutout")
