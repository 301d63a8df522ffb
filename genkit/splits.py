"""The one fixed split used everywhere.

Pokemon sprites (names starting with a 3-digit Pokedex number): **test** = Pokedex number
divisible by 10 (81 of the 792 sprites; every form of a species on the same side), **train** =
the other 711. Training holds part of train out to pick the best epoch: **val** = numbers
ending in 5 (79 sprites), **fit** = train without val (632). Any other stream splits the same
way on the image's position: i % 10 == 0 test, i % 10 == 5 val. Data sets that come with
their own test set name their images ``train-NNNNN`` / ``test-NNNNN`` (MNIST): **test** = the
``test-`` images, **val** = ``train-`` images whose number ends in 5. Those that come with their
own validation set too name it ``valid-NNNNN`` (PTB, the sonnets): then **val** = the ``valid-``
examples, **fit** = the ``train-`` ones, and **train** = both.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import GenkitError
from .io import Stream

SPLITS = ("train", "test", "val", "fit", "all")
TEST_DIGIT, VAL_DIGIT = 0, 5  # last digit of the key that sends an image to test / val


def is_test(key: int) -> bool:
    return key % 10 == TEST_DIGIT


_POKEDEX = re.compile(r"^(\d{3})")
_OWN_SPLIT = re.compile(r"^(train|valid|test)-(\d+)$")


def keys(stream: Stream) -> np.ndarray:
    """The number each image is split by: its Pokedex number, or else its position."""
    if stream.names is not None and len(stream) and all(_POKEDEX.match(str(n)) for n in stream.names):
        return np.array([int(_POKEDEX.match(str(n)).group(1)) for n in stream.names])
    return np.arange(len(stream))


def split_mask(stream: Stream, split: str) -> np.ndarray:
    if split not in SPLITS:
        raise GenkitError(f"unknown split {split!r} (choose from {', '.join(SPLITS)})")
    names = stream.names
    if names is not None and len(stream) and all(_OWN_SPLIT.match(str(n)) for n in names):
        test = np.array([str(n).startswith("test-") for n in names])
        valid = np.array([str(n).startswith("valid-") for n in names])
        if valid.any():  # its own validation set
            val = valid
        else:
            val = ~test & np.array([int(str(n).rsplit("-", 1)[1]) % 10 == VAL_DIGIT for n in names])
        return {"train": ~test, "test": test, "val": val, "fit": ~test & ~val,
                "all": np.ones(len(stream), dtype=bool)}[split]
    digit = keys(stream) % 10
    return {
        "train": digit != TEST_DIGIT,
        "test": digit == TEST_DIGIT,
        "val": digit == VAL_DIGIT,
        "fit": (digit != TEST_DIGIT) & (digit != VAL_DIGIT),
        "all": np.ones(len(stream), dtype=bool),
    }[split]


def split_stream(stream: Stream, split: str) -> Stream:
    return stream.select(split_mask(stream, split))
