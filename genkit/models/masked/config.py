"""The masked family's typed config (importable without TensorFlow)."""

from dataclasses import dataclass
from typing import ClassVar

from ...errors import GenkitError
from ..settings import Settings

MODEL_CLASS = "MaskedDiffusion"


@dataclass
class MaskedDiffusionConfig(Settings):
    embed: int = 32  # size of each input embedding (one per palette colour, one for MASK)
    channels: int = 96  # feature maps of every residual block
    blocks: int = 8  # residual blocks: 3x3 conv (dilated) -> GELU -> 1x1, plus the image's mean features
    dilations: str = "1,2,4,8"  # dilation of each block's 3x3 conv, cycled (1,2,4,8: 61 pixels across)
    head: int = 128  # hidden units of the output head (GELU -> 1x1 to the palette)
    dropout: float = 0.1  # in each block and the head, training only
    steps: int = 32  # default refinement steps of gk-sample and gk-complete (--steps overrides)

    LIMITS: ClassVar[dict] = {"embed": (1, None), "channels": (1, None), "blocks": (1, None), "head": (1, None),
                              "dropout": (0.0, 1.0), "steps": (1, None)}

    def check(self) -> None:
        try:
            values = [int(v) for v in self.dilations.split(",")]
        except ValueError:
            values = []
        if not values or min(values) < 1:
            raise GenkitError(f"dilations must be positive integers separated by commas, got {self.dilations!r}")
