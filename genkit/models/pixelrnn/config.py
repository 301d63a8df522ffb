"""PixelRNN's typed config (importable without TensorFlow)."""

from dataclasses import dataclass
from typing import ClassVar

from ..settings import Settings

MODEL_CLASS = "PixelRNN"


@dataclass
class PixelRNNConfig(Settings):
    embed: int = 64  # size of each input embedding
    hidden: int = 256  # LSTM units per layer
    layers: int = 2  # stacked LSTM layers
    dropout: float = 0.1  # between layers and before the softmax, training only
    above: bool = True  # also feed the pixel above the one being predicted (the course's model: False)
    position: bool = True  # also feed a learned embedding of the raster position (the course's: False)

    LIMITS: ClassVar[dict] = {"embed": (1, None), "hidden": (1, None), "layers": (1, None), "dropout": (0.0, 1.0)}
