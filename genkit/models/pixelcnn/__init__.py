"""pixelcnn: a gated PixelCNN (vertical + horizontal stacks, no blind spot) over palette indices."""

from .config import MODEL_CLASS, PixelCNNConfig
from .model import PixelCNN

__all__ = ["MODEL_CLASS", "PixelCNN", "PixelCNNConfig"]
