"""pixelcnn: a gated PixelCNN (vertical + horizontal stacks, no blind spot) over palette indices.
Settings in config.py (no TensorFlow), the model in model.py."""
