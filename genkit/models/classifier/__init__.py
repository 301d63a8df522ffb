"""The `classifier` family (see model.py): genkit's judge of realness for digits."""

from . import model  # noqa: F401  (registers the family)
