"""MNIST digits (LeCun, Cortes & Burges) as a genkit stream.

The four official IDX files are read in place from ``data_root()/mnist`` (or a folder you give),
each checked against its SHA-256; with ``download=True`` a missing file is fetched from the
CVDF mirror of the official files with the same check. The stream is palette-coded on a
256-level grey palette (index = ink intensity 0..255), with the digit as ``labels`` and names
``train-00000`` ... ``test-09999``: genkit's fixed split then gives the standard 60k/10k
split (test = the official 10,000 test images; val = every training image whose index ends
in 5). Binary models binarize these intensities dynamically (a fresh Bernoulli draw per epoch).
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from ..errors import GenkitError
from ..io import Stream
from ..palettes import grey256
from .root import data_root

MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
FILES = {  # name -> sha256 of the .gz file (the official files; see ../shared/data/mnist/SOURCE.md)
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
SIZE = 28


def _default_dir(data_dir) -> Path:

    return Path(data_dir) if data_dir is not None else data_root() / "mnist"


def files(data_dir=None, download: bool = False) -> dict[str, Path]:
    """The four IDX files, checked; fetched first with ``download`` when missing."""
    from .download import fetch, sha256_of

    folder = _default_dir(data_dir)
    out = {}
    for name, digest in FILES.items():
        path = folder / name
        if not path.is_file():
            if not download:
                raise GenkitError(f"missing {name}; pass the folder holding the MNIST files, or download them "
                                  f"(genkit.datasets.mnist.files(download=True))", source=str(folder))
            fetch(MIRROR + name, digest, path)
        elif sha256_of(path) != digest:
            raise GenkitError("checksum mismatch: not the official MNIST file", source=str(path))
        out[name] = path
    return out


def _idx(path: Path, magic: int, shape_tail: tuple[int, ...]) -> np.ndarray:
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise GenkitError(f"unreadable IDX file ({e})", source=str(path)) from None
    dims = 1 + len(shape_tail)
    head = struct.unpack(f">{1 + dims}I", data[: 4 * (1 + dims)])
    if head[0] != magic or tuple(head[2:]) != shape_tail:
        raise GenkitError("not an MNIST IDX file of the expected shape", source=str(path))
    n = head[1]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 * (1 + dims))
    if body.size != n * int(np.prod(shape_tail, dtype=np.int64)):
        raise GenkitError("truncated IDX file", source=str(path))
    return body.reshape(n, *shape_tail)


def load(data_dir: str | os.PathLike | None = None, download: bool = False) -> Stream:
    """All 70,000 digits: the 60,000 training images, then the 10,000 test images."""
    f = files(data_dir, download)
    parts, labels, names = [], [], []
    for prefix, tag in (("train", "train"), ("t10k", "test")):
        images = _idx(f[f"{prefix}-images-idx3-ubyte.gz"], 0x803, (SIZE, SIZE))
        lab = _idx(f[f"{prefix}-labels-idx1-ubyte.gz"], 0x801, ())
        if len(images) != len(lab):
            raise GenkitError(f"{prefix}: {len(images)} images but {len(lab)} labels", source=str(_default_dir(data_dir)))
        parts.append(images)
        labels.append(lab.astype(np.int64))
        names += [f"{tag}-{i:05d}" for i in range(len(images))]
    return Stream(indices=np.concatenate(parts), palette=grey256(), labels=np.concatenate(labels),
                  names=np.array(names), meta={"dataset": "mnist", "palette": "grey256"})
