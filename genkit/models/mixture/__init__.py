"""The ``mixture`` family: a per-pixel mixture of trained pixel models."""
