"""Settings of the ``classifier`` family (``gk-train classifier --set KEY=VALUE``); no TensorFlow import."""

from dataclasses import dataclass
from typing import ClassVar

from ..settings import Settings

MODEL_CLASS = "Classifier"


@dataclass
class ClassifierConfig(Settings):
    channels: int = 16  # width of the first conv (the second has twice as many)
    hidden: int = 128  # width of the penultimate layer: the feature space of genkit.realness
    dropout: float = 0.25  # before the output layer, training only
    classes: int = 0  # 0: one more than the stream's largest label (at least 2)

    LIMITS: ClassVar[dict] = {"channels": (1, None), "hidden": (1, None), "dropout": (0.0, 1.0), "classes": (0, None)}
