"""Named data sets as genkit streams: where the data lives, and ``load(name)`` to read one.

Data is never kept in the repository. :func:`data_root` finds it: ``$GENKIT_DATA`` if set, else
``<repo>/../shared/data`` if that folder exists, else ``~/.genkit/data``. Each data set sits in
its own sub-folder (``pokemon/`` for both Pokemon sets).

This package imports no TensorFlow; the tensorflow-datasets builder lives in
:mod:`genkit.datasets.pokemon_tfds` and is imported only by those who ask for it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable

from ..errors import GenkitError
from .root import CACHE_DIR, data_root

if TYPE_CHECKING:
    from ..io import Stream

def _split(stream: "Stream", split: str | None) -> "Stream":
    from ..splits import split_stream

    return stream if split is None else split_stream(stream, split)


def _check_split(split: str | None) -> None:
    from ..splits import SPLITS

    if split not in (None, *SPLITS):
        raise GenkitError(f"unknown split {split!r} (choose from {', '.join(SPLITS)})")


def _pokemon_course(split: str | None, data_dir) -> "Stream":
    """The course's crops, named by the shipped line -> sprite mapping, so they split like the sprites."""
    from . import pokemon

    _check_split(split)
    return _split(pokemon.load_course(data_dir), split)


def _pokemon_sprites(split: str | None, data_dir) -> "Stream":
    from . import pokemon

    _check_split(split)
    return _split(pokemon.load_sprites(data_dir), split)


def _mnist(split: str | None, data_dir) -> "Stream":
    from . import mnist

    _check_split(split)
    return _split(mnist.load(data_dir), split)


def _ptb(split: str | None, data_dir):
    from . import ptb

    _check_split(split)
    return _split(ptb.load(data_dir), split)


def _sonnets(split: str | None, data_dir):
    from . import poems

    _check_split(split)
    return _split(poems.load_sonnets(data_dir), split)


def _tang(split: str | None, data_dir):
    from . import poems

    _check_split(split)
    return _split(poems.load_tang(data_dir), split)


#: data sets of text (genkit.text.Sentences, one sentence a line) rather than images
TEXT = ("ptb", "sonnets", "tang")


def is_text(name: str) -> bool:
    """Whether the data set ``name`` holds sentences (for the sentence models) rather than images."""
    return name in TEXT


#: name -> loader(split, data_dir)
REGISTRY: dict[str, Callable[[str | None, object], "Stream"]] = {
    "pokemon": _pokemon_course,  # the course setting: its published crops and palette
    "pokemon-course": _pokemon_course,
    "pokemon-sprites": _pokemon_sprites,
    "mnist": _mnist,  # the official 60k/10k digits, 256 greys, labels
    "ptb": _ptb,  # Penn Treebank sentences (Mikolov's LM files), train/valid/test
    "sonnets": _sonnets,  # English sonnet lines (Deep-speare's Gutenberg corpus), train/valid/test
    "tang": _tang,  # Tang poem lines, characters, split by poem
}


def names() -> list[str]:
    """The data set names :func:`load` knows."""
    return sorted(REGISTRY)


def load(name: str, split: str | None = None, data_dir: str | os.PathLike | None = None) -> "Stream":
    """The data set ``name`` (one of :func:`names`) as a Stream, optionally one split of it.

    ``data_dir`` is the data set's own folder (default ``data_root()/pokemon`` for the Pokemon
    sets). Anything missing or malformed raises :class:`GenkitError`.
    """
    try:
        loader = REGISTRY[name]
    except KeyError:
        raise GenkitError(f"unknown data set {name!r} (known: {', '.join(names())})") from None
    data = loader(split, data_dir)
    quick = quick_size()
    return data.select(slice(0, quick)) if quick and len(data) > quick else data


def quick_size() -> int | None:
    """``GENKIT_QUICK=N`` (smoke runs, such as the README test): every data set, or split of one,
    cut to its first N examples; unset or 0: whole."""
    raw = os.environ.get("GENKIT_QUICK", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise GenkitError(f"GENKIT_QUICK must be a number of examples, got {raw!r}")
    return int(raw) or None


__all__ = ["CACHE_DIR", "REGISTRY", "TEXT", "data_root", "is_text", "load", "names", "quick_size"]
