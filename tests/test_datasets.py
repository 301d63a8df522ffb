"""genkit.datasets: data root, the course files, the sprites and their split, fetch(), the tfds builder.

Tests that read the real data use ``$GENKIT_DATA`` or ``<repo>/../shared/data`` and are skipped
only when that folder is absent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genkit import datasets
from genkit.datasets import pokemon
from genkit.datasets.download import fetch, sha256_of
from genkit.errors import GenkitError

REPO = Path(__file__).resolve().parents[1]
POKEMON = Path(os.environ.get("GENKIT_DATA") or REPO.parent / "shared" / "data") / "pokemon"
needs_data = pytest.mark.skipif(not POKEMON.is_dir(), reason=f"no data folder {POKEMON}")


# --------------------------------------------------------------------------------------------
# data_root, registry, import weight
# --------------------------------------------------------------------------------------------


def test_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("GENKIT_DATA", str(tmp_path))
    assert datasets.data_root() == tmp_path
    monkeypatch.delenv("GENKIT_DATA")
    shared = REPO.parent / "shared" / "data"
    assert datasets.data_root() == (shared if shared.is_dir() else Path.home() / ".genkit" / "data")


def test_unknown_name_and_split():
    assert {"pokemon", "pokemon-course", "pokemon-sprites", "mnist"} <= set(datasets.names())
    with pytest.raises(GenkitError, match="unknown data set"):
        datasets.load("nope")
    with pytest.raises(GenkitError, match="unknown split"):
        datasets.load("pokemon-course", split="valid", data_dir=POKEMON)
    with pytest.raises(GenkitError, match="unknown split"):
        datasets.load("pokemon-sprites", split="valid", data_dir=POKEMON)


def test_no_tensorflow_at_import():
    code = "import sys, genkit.datasets, genkit.datasets.pokemon, genkit.datasets.download; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# The course files
# --------------------------------------------------------------------------------------------


@needs_data
def test_load_course():
    s = datasets.load("pokemon-course", data_dir=POKEMON)
    assert s.indices.shape == (792, 20, 20) and s.indices.dtype == np.uint8
    assert s.palette.shape == (167, 3) and s.palette.dtype == np.uint8
    assert s.palette[0].tolist() == [255, 255, 255]
    assert s.meta == {"source": "course", "palette": "course-167", "crop": 20}
    first = (POKEMON / "pixel_color.txt").read_text().splitlines()[0].split()
    assert s.indices[0].reshape(-1).tolist() == [int(v) for v in first]  # row-major, file order


@needs_data
def test_course_checksums():
    for name, sha in pokemon.COURSE_FILES.items():
        assert sha256_of(POKEMON / name) == sha


def _write_course(folder: Path, pixel_lines=None, colormap_lines=None) -> Path:
    """A valid pair of course files (all zeros, grey palette), with some lines replaced."""
    pixels = ["0 " * 399 + "0"] * 792
    colors = [f"{i} {i} {i}" for i in range(167)]
    for lines, edits in ((pixels, pixel_lines), (colors, colormap_lines)):
        for i, line in (edits or {}).items():
            if line is None:
                del lines[i]
            else:
                lines[i] = line
    (folder / "pixel_color.txt").write_text("\n".join(pixels) + "\n")
    (folder / "colormap.txt").write_text("\n".join(colors))
    return folder


def test_course_fixture_is_valid(tmp_path):
    s = pokemon.load_course(_write_course(tmp_path), names=False)  # names hold only for the published file
    assert len(s) == 792 and s.palette[166].tolist() == [166] * 3


@pytest.mark.parametrize(
    "pixel_lines, colormap_lines, file, expect",
    [
        ({4: "0 " * 398 + "0"}, None, "pixel_color.txt", "line 5: expected 400 integers, got 399"),
        ({0: "0 " * 399 + "167"}, None, "pixel_color.txt", "line 1: value 167 is out of range 0..166"),
        ({9: "0 " * 399 + "1.5"}, None, "pixel_color.txt", "line 10: '1.5' is not a non-negative integer"),
        ({2: "0 " * 399 + "-1"}, None, "pixel_color.txt", "line 3: '-1' is not"),
        ({791: None}, None, "pixel_color.txt", "expected 792 lines, got 791"),
        (None, {0: None}, "colormap.txt", "expected 167 lines, got 166"),
        (None, {7: "1 2 256"}, "colormap.txt", "line 8: value 256 is out of range 0..255"),
        (None, {3: "1 2"}, "colormap.txt", "line 4: expected 3 integers, got 2"),
        (None, {0: "a b c"}, "colormap.txt", "line 1: 'a' is not"),
    ],
)
def test_bad_course_files(tmp_path, pixel_lines, colormap_lines, file, expect):
    _write_course(tmp_path, pixel_lines, colormap_lines)
    with pytest.raises(GenkitError) as err:
        pokemon.load_course(tmp_path)
    assert file in str(err.value) and expect in str(err.value)


def test_course_missing(tmp_path):
    with pytest.raises(GenkitError, match="download=True") as err:
        pokemon.load_course(tmp_path)
    assert str(tmp_path) in str(err.value)


@needs_data
def test_course_download(tmp_path, monkeypatch):
    """download=True fetches both files (here from a file:// mirror) and checks them."""
    monkeypatch.setattr(pokemon, "BASE_URL", POKEMON.as_uri() + "/")
    s = pokemon.load_course(tmp_path / "dl", download=True)
    assert len(s) == 792 and sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["colormap.txt", "pixel_color.txt"]


# --------------------------------------------------------------------------------------------
# fetch()
# --------------------------------------------------------------------------------------------


def test_fetch(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"pokemon" * 1000)
    sha = sha256_of(src)
    dest = tmp_path / "out" / "file.bin"
    assert fetch(src.as_uri(), sha, dest) == dest
    assert dest.read_bytes() == src.read_bytes()
    assert os.listdir(dest.parent) == ["file.bin"]
    # already there and intact: no network (this URL cannot be fetched)
    assert fetch("http://invalid.invalid/file.bin", sha, dest) == dest


def test_fetch_mismatch(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"not what you expected")
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(GenkitError) as err:
        fetch(src.as_uri(), "0" * 64, dest)
    assert "0" * 64 in str(err.value) and sha256_of(src) in str(err.value)
    assert os.listdir(dest.parent) == []


def test_fetch_offline(tmp_path):
    with pytest.raises(GenkitError, match="offline.*local path"):
        fetch((tmp_path / "missing.bin").as_uri(), "0" * 64, tmp_path / "file.bin")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------------------------
# The sprites and the fixed split
# --------------------------------------------------------------------------------------------


def test_pokedex_number_and_split():
    assert pokemon.pokedex_number("003MMS.png") == 3
    assert pokemon.pokedex_number("/x/y/150MS.png") == 150
    assert pokemon.split_of("150MS.png") == "test" and pokemon.split_of("151MS.png") == "train"
    with pytest.raises(GenkitError, match="Pokedex number"):
        pokemon.pokedex_number("pikachu.png")


@needs_data
def test_load_sprites_and_split_sizes():
    s = pokemon.load_sprites(POKEMON)
    assert s.images.shape == (792, 40, 40, 3) and s.images.dtype == np.uint8
    assert s.names[0] == "001MS.png" and list(s.names) == sorted(s.names)
    splits = [pokemon.split_of(n) for n in s.names]
    assert splits.count("train") == 711 and splits.count("test") == 81
    test = datasets.load("pokemon-sprites", split="test", data_dir=POKEMON)
    assert len(test) == 81 and all(pokemon.pokedex_number(n) % 10 == 0 for n in test.names)
    assert len(datasets.load("pokemon-sprites", split="train", data_dir=POKEMON)) == 711


def test_sprites_missing(tmp_path):
    with pytest.raises(GenkitError, match="bsdtar -xf image.rar"):
        pokemon.load_sprites(tmp_path)


# --------------------------------------------------------------------------------------------
# The tensorflow-datasets builder
# --------------------------------------------------------------------------------------------


@needs_data
def test_tfds_builder(tmp_path):
    import tensorflow_datasets as tfds

    from genkit.datasets.pokemon_tfds import PokemonSprites

    tfds.disable_progress_bar()
    config = tfds.download.DownloadConfig(manual_dir=str(POKEMON))

    builder = PokemonSprites(config="sprites", data_dir=str(tmp_path))
    builder.download_and_prepare(download_config=config)
    assert builder.info.splits["test"].num_examples == 81
    assert builder.info.splits["train"].num_examples == 711
    test = list(tfds.as_numpy(builder.as_dataset(split="test")))
    assert len(test) == 81
    ex = test[0]
    assert ex["image"].shape == (40, 40, 3) and ex["image"].dtype == np.uint8
    sprites = pokemon.load_sprites(POKEMON)
    name = ex["name"].decode()
    assert ex["pokedex"] == pokemon.pokedex_number(name) and pokemon.split_of(name) == "test"
    np.testing.assert_array_equal(ex["image"], sprites.images[list(sprites.names).index(name)])

    builder = PokemonSprites(config="course", data_dir=str(tmp_path))
    builder.download_and_prepare(download_config=config)
    course = pokemon.load_course(POKEMON)
    assert list(builder.info.splits) == ["train"]
    rows = [ex["indices"] for ex in tfds.as_numpy(builder.as_dataset(split="train"))]
    assert len(rows) == 792 and rows[0].shape == (20, 20) and rows[0].dtype == np.uint8
    assert sorted(r.tobytes() for r in rows) == sorted(r.tobytes() for r in course.indices)
    assert builder.info.metadata["palette"] == course.palette.tolist()


def test_mnist_is_the_official_60k_10k_split_with_labels(data_dir):
    from genkit.palettes import grey256

    everything = datasets.load("mnist")
    assert len(everything) == 70_000 and everything.size == (28, 28) and len(everything.palette) == 256
    test = datasets.load("mnist", split="test")
    assert len(test) == 10_000 and all(n.startswith("test-") for n in test.names)
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    val, fit = datasets.load("mnist", split="val"), datasets.load("mnist", split="fit")
    assert len(val) == 6_000 and len(fit) == 54_000 and not set(val.names) & set(fit.names)
    assert int(everything.indices.max()) == 255 and np.array_equal(grey256()[:, 0], np.arange(256))


def test_mnist_refuses_a_file_that_is_not_the_official_one(data_dir, tmp_path):
    from genkit.datasets import mnist

    for name in mnist.FILES:
        (tmp_path / name).symlink_to(data_dir / "mnist" / name)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes((data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()[:-1] + b"x")
    with pytest.raises(GenkitError, match="checksum mismatch"):
        datasets.load("mnist", data_dir=tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(GenkitError, match="missing t10k-labels"):
        datasets.load("mnist", data_dir=tmp_path)
