"""PixelCNN's typed config (importable without TensorFlow)."""

from dataclasses import dataclass
from typing import ClassVar

from ...errors import GenkitError
from ..settings import Settings

MODEL_CLASS = "PixelCNN"


@dataclass
class PixelCNNConfig(Settings):
    embed: int = 32  # size of each input embedding (one per palette colour)
    channels: int = 48  # feature maps of each stack (the gates see twice as many)
    layers: int = 8  # gated layers; the first is masked "A" (cannot see its own pixel), the rest "B"
    kernel: int = 3  # odd; vertical kernel (kernel//2+1) x kernel, horizontal 1 x (kernel//2+1)
    head: int = 128  # hidden units of the output head (ReLU -> 1x1 -> ReLU -> 1x1 to the palette)
    dropout: float = 0.2  # on each gated output and in the head, training only (711 sprites overfit without)

    LIMITS: ClassVar[dict] = {"embed": (1, None), "channels": (1, None), "layers": (1, None), "kernel": (1, None),
                              "head": (1, None), "dropout": (0.0, 1.0)}

    def check(self) -> None:
        if self.kernel % 2 == 0:
            raise GenkitError(f"kernel must be odd, got {self.kernel}")
