"""The `sentence-vae` family (see model.py); ``--set latent=0`` makes it a plain LSTM language model."""

from . import model  # noqa: F401  (registers the family)
