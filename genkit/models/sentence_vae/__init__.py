"""The `sentence-vae` family (``--set latent=0`` makes it a plain LSTM language model): settings
in config.py (no TensorFlow), the model in model.py."""
