"""The `gan` family (see model.py)."""

from . import model  # noqa: F401  (registers the family)
