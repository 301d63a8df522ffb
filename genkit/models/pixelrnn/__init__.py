"""pixelrnn: the course's model, a stacked LSTM over the raster-order sequence of palette indices."""

from .config import MODEL_CLASS, PixelRNNConfig
from .model import PixelRNN

__all__ = ["MODEL_CLASS", "PixelRNN", "PixelRNNConfig"]
