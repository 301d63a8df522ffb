"""The `vae` family: settings in config.py (no TensorFlow), the model in model.py."""
