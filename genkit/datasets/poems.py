"""Poem lines as Sentences: English sonnets (words) and Tang poems (characters).

Both are read in place from ``data_root()/poems`` (see ``../shared/data/poems/SOURCE.md``), each
file checked against its SHA-256. They are derived files (a filtered, re-formatted subset of
their upstreams), so there is nothing to download: a missing file is an error that says where to
put it.

* **sonnets** (:func:`load_sonnets`): the sonnet corpus of Lau et al. (Deep-speare, 2018), from
  Project Gutenberg, lower-cased and tokenised (``man 's``, ``,``), one verse a line, with its
  fixed train/valid/test split (37,590 / 4,690 / 4,690 lines), named ``train-N`` / ``valid-N`` /
  ``test-N``: fit = train, val = valid, test = test.
* **tang** (:func:`load_tang`): 402,538 verse lines of 5 or 7 characters from 45,869 poems of
  the 《全唐詩》 (chinese-poetry, traditional script as stored). Lines split by *poem*, so that
  the two lines of a couplet never sit on both sides: poem k (in file order) is test when
  k % 10 == 0, val when k % 10 == 5, fit otherwise (39,832 / 40,436 / 322,270 lines).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np

from ..errors import GenkitError
from ..text import Sentences, decode_lines
from .root import data_root

FILES = {
    "en_sonnet_lines.train.txt.gz": "92e06407718f11675f4f7316b55dc606ebe019ad26a8a4c46f1a3198ea7d93f8",
    "en_sonnet_lines.valid.txt.gz": "7ed85baaf485ff6c21cc7ef1b0b33a749ddccc34b9b33c6e9d07cc47232f1d2f",
    "en_sonnet_lines.test.txt.gz": "5540bae8e4ed9c4cc10746b97ea198c231ed0c91e2f7613b33528f8080ff3e63",
    "tang_lines.txt.gz": "5af9345722aca64967ec224bcdafe6251df14ea48ab65edebdaa328c1aef3c97",
    "tang_poems.json.gz": "1e3b71018659c88abc8e01da7577c0b9be48cf4bda6b7558f611f59ac3f083c9",
}
SONNET_LINES = {"train": 37_590, "valid": 4_690, "test": 4_690}
TANG_LINES, TANG_POEMS = 402_538, 45_869


def _default_dir(data_dir) -> Path:

    return Path(data_dir) if data_dir is not None else data_root() / "poems"


def _read(folder: Path, name: str) -> bytes:
    from .download import sha256_of

    path = folder / name
    if not path.is_file():
        raise GenkitError(f"missing {name}; pass the folder holding the poem files (see genkit/datasets/poems.py)",
                          source=str(folder))
    if sha256_of(path) != FILES[name]:
        raise GenkitError("checksum mismatch: not the stored poem file (see SOURCE.md)", source=str(path))
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as e:
        raise GenkitError(f"bad gzip data ({e})", source=str(path)) from None


def load_sonnets(data_dir: str | os.PathLike | None = None) -> Sentences:
    """All 46,970 sonnet lines: train, then valid, then test."""
    folder = _default_dir(data_dir)
    texts, names = [], []
    for split, count in SONNET_LINES.items():
        name = f"en_sonnet_lines.{split}.txt.gz"
        lines = decode_lines(_read(folder, name), str(folder / name))
        if len(lines) != count:
            raise GenkitError(f"{len(lines)} lines, expected {count}", source=str(folder / name))
        texts += lines
        names += [f"{split}-{i:05d}" for i in range(count)]
    return Sentences(texts, names, {"dataset": "sonnets", "unit": "word", "pretokenized": True})


def load_tang(data_dir: str | os.PathLike | None = None) -> Sentences:
    """All 402,538 Tang verse lines in file order, named by the side of the split their poem is on."""
    folder = _default_dir(data_dir)
    lines = decode_lines(_read(folder, "tang_lines.txt.gz"), str(folder / "tang_lines.txt.gz"))
    poems = json.loads(_read(folder, "tang_poems.json.gz"))
    if len(lines) != TANG_LINES or len(poems) != TANG_POEMS:
        raise GenkitError(f"{len(lines)} lines in {len(poems)} poems, expected {TANG_LINES} in {TANG_POEMS}",
                          source=str(folder))
    poem_of = np.empty(len(lines), dtype=np.int64)
    for k, poem in enumerate(poems):
        poem_of[poem["first_line"] : poem["first_line"] + poem["n_lines"]] = k
    side = np.where(poem_of % 10 == 0, "test", np.where(poem_of % 10 == 5, "valid", "train"))
    names = np.char.add(np.char.add(side, "-"), np.char.zfill(np.arange(len(lines)).astype(str), 6))
    return Sentences(lines, names, {"dataset": "tang", "unit": "char"})
