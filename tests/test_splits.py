"""The fixed split: sizes on the real sprites, disjointness, and the positional fallback."""

import numpy as np

from genkit import datasets
from genkit.io import Stream
from genkit.splits import split_mask


def test_pokemon_split_sizes(data_dir):
    s = datasets.load("pokemon-course")
    sizes = {k: int(split_mask(s, k).sum()) for k in ("train", "test", "val", "fit", "all")}
    assert sizes == {"train": 711, "test": 81, "val": 79, "fit": 632, "all": 792}
    assert not (split_mask(s, "test") & split_mask(s, "train")).any()
    assert not (split_mask(s, "fit") & split_mask(s, "val")).any()
    # every form of a species lands on the same side
    by_species = {}
    for name, test in zip(s.names, split_mask(s, "test")):
        by_species.setdefault(name[:3], set()).add(bool(test))
    assert all(len(v) == 1 for v in by_species.values())


def test_positional_split_for_unnamed_streams():
    s = Stream(images=np.zeros((20, 1, 1, 3), np.uint8))
    assert np.flatnonzero(split_mask(s, "test")).tolist() == [0, 10]
    assert np.flatnonzero(split_mask(s, "val")).tolist() == [5, 15]
