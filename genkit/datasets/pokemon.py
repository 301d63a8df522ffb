"""The Pokemon data set of Hung-yi Lee's ML course (NTU), in two forms.

* ``load_course``: the course's own preprocessing, ``pixel_color.txt`` (792 sprites as 20x20
  centre crops, one line of 400 palette indices each) and ``colormap.txt`` (the 167-colour
  palette, index 0 = white), read exactly as published. The line order is not the file-name
  order of the sprites and the lines carry no names; the names come from the shipped mapping
  ``pokemon_course_names.txt`` (made by :mod:`genkit.datasets.course_map`), so the course's
  lines take the same train/test split as the sprites.
* ``load_sprites``: the original 40x40 sprites (PNG, transparency composited on white), named
  by file (3-digit Pokedex number + form suffix), with the project's fixed split
  (:func:`split_of`: Pokedex number divisible by 10 -> test).

Both text files can be downloaded (checksummed) from a public re-host of the course files. The
sprites ship there only as ``image.rar``, which Python's standard library cannot extract: get
it yourself, extract it with ``bsdtar -xf image.rar`` or ``unrar x image.rar`` and pass the
folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import GenkitError
from ..io import Stream, read_stream
from .root import CACHE_DIR, data_root
from .download import fetch, sha256_of

BASE_URL = "https://raw.githubusercontent.com/SunnyHaze/PixelRNN-Pokemon-Creation/fe2d3baac5b8be647cc62fccd34d585ca19c5c0f/"
#: file name -> sha256 of the course's text files
COURSE_FILES = {
    "colormap.txt": "1ee954cf5adfa6b996bbf9231a1340efb29a2d4d9eabeb37831af45a0c1ac356",
    "pixel_color.txt": "facd83256c33298756c3f2dd533771b69d4b7500618b5e73322bc5dbe97c297d",
}
IMAGE_RAR = ("image.rar", "ea287944bb043ab421be656afdb621e74c8d030321adefb6811418e8023f37d2")
N_SPRITES = 792
N_COLORS = 167
CROP = 20
SPRITE_SIZE = (40, 40)
SPLITS = ("train", "test")
#: The sprite file name of each line of the published pixel_color.txt (after one "#" header line).
COURSE_NAMES_FILE = Path(__file__).with_name("pokemon_course_names.txt")

SPRITES_HINT = (
    f"download {BASE_URL}{IMAGE_RAR[0]} (sha256 {IMAGE_RAR[1]}), extract it with "
    "`bsdtar -xf image.rar` or `unrar x image.rar` (Python cannot read RAR archives) "
    "and pass the folder of PNGs"
)


def _default_dir(data_dir) -> Path:
    return Path(data_dir).expanduser() if data_dir else data_root() / "pokemon"


# --------------------------------------------------------------------------------------------
# The course's pixel_color.txt + colormap.txt
# --------------------------------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_bytes().decode("ascii")
    except OSError as e:
        raise GenkitError(e.strerror or str(e), source=str(path)) from None
    except UnicodeDecodeError:
        raise GenkitError("not a plain ASCII text file", source=str(path)) from None
    return text.splitlines()


def _ints(line: str, count: int, top: int, path: Path, lineno: int) -> list[int]:
    """The ``count`` integers 0..top of one line, or a GenkitError naming file and line."""
    tokens = line.split()
    if len(tokens) != count:
        raise GenkitError(f"line {lineno}: expected {count} integers, got {len(tokens)}", source=str(path))
    for tok in tokens:
        if not (tok.isascii() and tok.isdigit()):
            raise GenkitError(f"line {lineno}: {tok[:20]!r} is not a non-negative integer", source=str(path))
    values = [int(tok) for tok in tokens]
    if max(values) > top:
        raise GenkitError(f"line {lineno}: value {max(values)} is out of range 0..{top}", source=str(path))
    return values


def _table(path: Path, rows: int, cols: int, top: int) -> np.ndarray:
    lines = _lines(path)
    if len(lines) != rows:
        raise GenkitError(f"expected {rows} lines, got {len(lines)}", source=str(path))
    return np.array([_ints(line, cols, top, path, i) for i, line in enumerate(lines, 1)], dtype=np.uint8)


def read_course(pixel_color: str | os.PathLike, colormap: str | os.PathLike) -> Stream:
    """Parse the two course files (given by path) into a palette-coded Stream of 792 20x20 crops."""
    palette = _table(Path(colormap), N_COLORS, 3, 255)
    indices = _table(Path(pixel_color), N_SPRITES, CROP * CROP, N_COLORS - 1)
    return Stream(
        indices=indices.reshape(N_SPRITES, CROP, CROP),
        palette=palette,
        meta={"source": "course", "palette": "course-167", "crop": CROP},
    )


def course_files(data_dir=None, download: bool = False) -> dict[str, Path]:
    """{file name: path} of the two course files, downloading them first if asked and missing.

    Looks in ``data_dir`` (default ``data_root()/pokemon``, then the download cache
    ``~/.genkit/data/pokemon``). Downloads go to ``data_dir``, or to the cache when it is None.
    """
    folders = [_default_dir(data_dir)] + ([] if data_dir else [CACHE_DIR / "pokemon"])
    for folder in folders:
        paths = {name: folder / name for name in COURSE_FILES}
        if all(p.is_file() for p in paths.values()):
            return paths
    if download:
        target = Path(data_dir).expanduser() if data_dir else CACHE_DIR / "pokemon"
        return {name: fetch(BASE_URL + name, sha, target / name) for name, sha in COURSE_FILES.items()}
    raise GenkitError(
        f"no {' and '.join(COURSE_FILES)} in {folders[0]}: put the course files there "
        f"(from {BASE_URL}), set GENKIT_DATA to the folder above pokemon/, or use download=True"
    )


def is_published_course(pixel_color: str | os.PathLike) -> bool:
    """Whether a pixel_color.txt is byte for byte the published one (its SHA-256 matches)."""
    return sha256_of(pixel_color) == COURSE_FILES["pixel_color.txt"]


def course_names() -> np.ndarray:
    """The sprite file name of each line of the published pixel_color.txt (792, unicode), from the
    shipped ``pokemon_course_names.txt`` (regenerate it with ``python -m genkit.datasets.course_map``)."""
    path = COURSE_NAMES_FILE
    lines = [line for line in _lines(path) if line and not line.startswith("#")]
    if len(lines) != N_SPRITES or len(set(lines)) != N_SPRITES:
        raise GenkitError(
            f"expected {N_SPRITES} distinct sprite names, got {len(lines)} ({len(set(lines))} distinct)",
            source=str(path),
        )
    for name in lines:
        pokedex_number(name)
    return np.array(lines, dtype=str)


def load_course(data_dir: str | os.PathLike | None = None, download: bool = False, names: bool = True) -> Stream:
    """The course's 792 palette-coded 20x20 crops with its 167-colour palette (index 0 = white).

    Lines are kept in file order (not sprite file-name order); ``meta`` is
    ``{"source": "course", "palette": "course-167", "crop": 20}``. With ``names`` (the default)
    each line carries its sprite's file name (:func:`course_names`), so :func:`split_of` applies;
    that mapping holds only for the published pixel_color.txt, and any other file raises
    GenkitError unless ``names=False``.
    """
    paths = course_files(data_dir, download)
    stream = read_course(paths["pixel_color.txt"], paths["colormap.txt"])
    if names:
        if not is_published_course(paths["pixel_color.txt"]):
            raise GenkitError(
                "this is not the published pixel_color.txt (its sha256 differs), so the shipped line "
                "names do not apply: pass names=False",
                source=str(paths["pixel_color.txt"]),
            )
        stream.names = course_names()
        stream.validate()
    return stream


# --------------------------------------------------------------------------------------------
# The original sprites
# --------------------------------------------------------------------------------------------


def sprites_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of sprite PNGs: ``data_dir/sprites`` if that exists, else ``data_dir`` itself."""
    folder = _default_dir(data_dir)
    return folder / "sprites" if (folder / "sprites").is_dir() else folder


def load_sprites(data_dir: str | os.PathLike | None = None) -> Stream:
    """The original sprites as RGB 40x40 (transparency on white), sorted by file name.

    ``data_dir`` is the pokemon folder (holding ``sprites/``) or the sprites folder itself. Only a
    local folder is supported: the upstream ``image.rar`` must be extracted by hand.
    """
    folder = sprites_dir(data_dir)
    files = sorted(str(p) for p in folder.glob("*") if p.suffix.lower() == ".png" and p.is_file()) if folder.is_dir() else []
    if not files:
        raise GenkitError(f"no sprite PNGs here; {SPRITES_HINT}", source=str(folder))
    for f in files:
        pokedex_number(f)
    stream = read_stream(files)
    if stream.is_palette or stream.size != SPRITE_SIZE:
        raise GenkitError(f"sprites must be plain 40x40 PNGs, got {stream.size[0]}x{stream.size[1]}", source=str(folder))
    stream.meta = {"source": "sprites"}
    return stream


def pokedex_number(name: str | os.PathLike) -> int:
    """The National Pokedex number of a sprite file name: its first three digits (``003MMS.png`` -> 3)."""
    base = Path(name).name
    head = base[:3]
    if not (len(head) == 3 and head.isascii() and head.isdigit()):
        raise GenkitError(f"cannot tell the Pokedex number of {base!r}: sprite names start with 3 digits")
    return int(head)


def split_of(name: str | os.PathLike) -> str:
    """The project's fixed split of a sprite: ``"test"`` if its Pokedex number is divisible by 10."""
    from ..splits import is_test  # the one place the rule lives

    return "test" if is_test(pokedex_number(name)) else "train"


__all__ = [
    "BASE_URL",
    "COURSE_FILES",
    "COURSE_NAMES_FILE",
    "IMAGE_RAR",
    "SPLITS",
    "course_files",
    "course_names",
    "is_published_course",
    "load_course",
    "load_sprites",
    "pokedex_number",
    "read_course",
    "split_of",
    "sprites_dir",
]
