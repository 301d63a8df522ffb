"""pixelrnn: the course's model, a stacked LSTM over the raster-order sequence of palette indices.
Settings in config.py (no TensorFlow), the model in model.py."""
