"""genkit.datasets.course_map: which sprite each line of the course's pixel_color.txt is.

The shipped mapping (genkit/datasets/pokemon_course_names.txt) is checked against the data:
it is a permutation of the sprite names, each line agrees well with its sprite's quantized crop
and better than with any other sprite, and recomputing it gives the same bytes. The numpy
assignment solver is checked against scipy's. Tests that read the real data are skipped only
when the data folder is absent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genkit import datasets
from genkit.datasets import course_map, pokemon
from genkit.errors import GenkitError
from genkit.io import Stream

REPO = Path(__file__).resolve().parents[1]
POKEMON = Path(os.environ.get("GENKIT_DATA") or REPO.parent / "shared" / "data") / "pokemon"
needs_data = pytest.mark.skipif(not POKEMON.is_dir(), reason=f"no data folder {POKEMON}")

# Measured on the published data (RGB nearest colour): min 0.4175, median 0.9475, mean 0.9155.
# The low tail is sprites whose transparent pixels the course kept in the palette's raw
# transparent colour instead of white (e.g. 674MS.png: a magenta background).
MIN_AGREEMENT = 0.40
MEDIAN_AGREEMENT = 0.94


@pytest.fixture(scope="module")
def course():
    return pokemon.load_course(POKEMON, names=False)


@pytest.fixture(scope="module")
def sprites():
    return pokemon.load_sprites(POKEMON)


@pytest.fixture(scope="module")
def counts(course, sprites):
    """(line, sprite) number of equal pixels (of 400), RGB nearest colour."""
    codes = course_map.sprite_codes(sprites, course.palette, "rgb")
    return course_map.agreement_counts(course.indices.reshape(len(course), -1), codes)


def _columns(names, sprites) -> np.ndarray:
    where = {str(n): j for j, n in enumerate(sprites.names)}
    return np.array([where[str(n)] for n in names])


# --------------------------------------------------------------------------------------------
# The shipped file
# --------------------------------------------------------------------------------------------


def test_shipped_file_format():
    lines = pokemon.COURSE_NAMES_FILE.read_text(encoding="ascii").splitlines()
    assert len(lines) == 793 and lines[0].startswith("#") and course_map.COMMAND in lines[0]
    names = pokemon.course_names()
    assert names.dtype.kind == "U" and names.shape == (792,) and list(names) == lines[1:]
    assert len(set(names)) == 792


def test_shipped_file_is_package_data():
    text = (REPO / "pyproject.toml").read_text()
    assert '"genkit.datasets" = ["checksums.tsv", "pokemon_course_names.txt"]' in text


@needs_data
def test_shipped_mapping_is_a_permutation_of_the_sprites(sprites):
    assert sorted(pokemon.course_names()) == sorted(str(n) for n in sprites.names)


@needs_data
def test_shipped_mapping_agrees_with_the_pixels(counts, sprites):
    cols = _columns(pokemon.course_names(), sprites)
    lines = np.arange(len(cols))
    agreement = counts[lines, cols] / 400
    assert agreement.min() >= MIN_AGREEMENT
    assert np.median(agreement) >= MEDIAN_AGREEMENT and agreement.mean() >= 0.9
    others = counts.copy()
    others[lines, cols] = -1
    margin = counts[lines, cols] - others.max(axis=1)  # pixels (of 400) over the best other sprite
    # Every line's mapped sprite strictly beats every other sprite (measured: by 8 pixels at
    # least, 380MMS/381MMS). With each row's maximum unique and the row maxima on distinct
    # sprites, the mapping is the unique optimal assignment.
    assert margin.min() >= 8


@needs_data
def test_rgb_rule_beats_lab(course, sprites, counts):
    """The course quantized by nearest RGB colour: CIEDE2000 agrees less on the same pairs."""
    cols = _columns(pokemon.course_names(), sprites)
    lines = np.arange(len(cols))
    lab = course_map.agreement_matrix(course, sprites, rule="lab")[lines, cols]
    rgb = counts[lines, cols] / 400
    assert np.median(rgb) > np.median(lab) + 0.05 and rgb.mean() > lab.mean()


@needs_data
def test_matcher_reproduces_the_shipped_file(course, sprites):
    names, agreement = course_map.match_course_to_sprites(course, sprites)
    assert names == list(pokemon.course_names())
    assert agreement.shape == (792,) and np.median(agreement) >= MEDIAN_AGREEMENT
    assert course_map.render(names) == pokemon.COURSE_NAMES_FILE.read_bytes()


@needs_data
def test_matcher_does_not_depend_on_sprite_order(course, sprites):
    perm = np.random.default_rng(3).permutation(len(sprites))
    names, _ = course_map.match_course_to_sprites(course, sprites.select(perm))
    assert names == list(pokemon.course_names())


@needs_data
def test_main_writes_and_checks(tmp_path, capsys):
    out = tmp_path / "names.txt"
    assert course_map.main(["--data-dir", str(POKEMON), "--output", str(out)]) == 0
    assert out.read_bytes() == pokemon.COURSE_NAMES_FILE.read_bytes()
    assert os.listdir(tmp_path) == ["names.txt"]
    assert course_map.main(["--data-dir", str(POKEMON), "--output", str(out), "--check"]) == 0
    out.write_text("stale\n")
    assert course_map.main(["--data-dir", str(POKEMON), "--output", str(out), "--check"]) == 1
    assert "median 0.9475" in capsys.readouterr().err


def test_matcher_refuses_mismatched_inputs(tmp_path):
    course = pokemon.load_course(_write_zero_course(tmp_path), names=False)
    one = Stream(images=np.zeros((1, 40, 40, 3), np.uint8), names=np.array(["001MS.png"]))
    with pytest.raises(GenkitError, match="792 course lines but 1 sprites"):
        course_map.match_course_to_sprites(course, one)
    with pytest.raises(GenkitError, match="carry names"):
        course_map.match_course_to_sprites(course, Stream(images=one.images))
    with pytest.raises(GenkitError, match="palette-coded 20x20"):
        course_map.match_course_to_sprites(one, one)


# --------------------------------------------------------------------------------------------
# load_course(names=True) and the split
# --------------------------------------------------------------------------------------------


def _write_zero_course(folder: Path) -> Path:
    (folder / "pixel_color.txt").write_text(("0 " * 399 + "0\n") * 792)
    (folder / "colormap.txt").write_text("\n".join(f"{i} {i} {i}" for i in range(167)))
    return folder


def test_names_need_the_published_file(tmp_path):
    _write_zero_course(tmp_path)
    with pytest.raises(GenkitError, match="names=False"):
        pokemon.load_course(tmp_path)
    assert pokemon.load_course(tmp_path, names=False).names is None


@needs_data
def test_course_split_sizes(sprites):
    full = datasets.load("pokemon-course", data_dir=POKEMON)
    assert list(full.names) == list(pokemon.course_names())
    train = datasets.load("pokemon-course", split="train", data_dir=POKEMON)
    test = datasets.load("pokemon-course", split="test", data_dir=POKEMON)
    assert (len(train), len(test)) == (711, 81)
    assert all(pokemon.split_of(n) == "test" for n in test.names)
    assert all(pokemon.split_of(n) == "train" for n in train.names)
    assert sorted(test.names) == sorted(n for n in sprites.names if pokemon.split_of(n) == "test")
    # lines stay in file order within a split
    order = [i for i, n in enumerate(full.names) if pokemon.split_of(n) == "test"]
    np.testing.assert_array_equal(test.indices, full.indices[order])
    with pytest.raises(GenkitError, match="unknown split"):
        datasets.load("pokemon-course", split="valid", data_dir=POKEMON)


def test_no_scipy_at_runtime():
    code = "import sys, genkit.datasets.course_map; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# The assignment solver
# --------------------------------------------------------------------------------------------


def _check_against_scipy(cost, maximize, unique):
    scipy_lsa = pytest.importorskip("scipy.optimize").linear_sum_assignment
    rows, cols = course_map.linear_sum_assignment(cost, maximize=maximize)
    ref_rows, ref_cols = scipy_lsa(cost, maximize=maximize)
    assert len(rows) == len(cols) == min(cost.shape)
    assert (np.diff(rows) > 0).all() and len(set(cols.tolist())) == len(cols)
    assert np.isclose(cost[rows, cols].sum(), cost[ref_rows, ref_cols].sum(), rtol=0, atol=1e-9)
    if unique:  # continuous random costs: the optimum is unique
        np.testing.assert_array_equal(rows, ref_rows)
        np.testing.assert_array_equal(cols, ref_cols)


@pytest.mark.parametrize("maximize", [False, True])
def test_lsap_random_square(maximize):
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 5, 8, 13, 30):
        _check_against_scipy(rng.random((n, n)), maximize, unique=True)
        _check_against_scipy(rng.normal(size=(n, n)) * 1e3, maximize, unique=True)


@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (1, 5), (5, 1), (10, 25), (25, 10)])
def test_lsap_rectangular(shape):
    rng = np.random.default_rng(1)
    for maximize in (False, True):
        _check_against_scipy(rng.random(shape), maximize, unique=True)
        _check_against_scipy(rng.integers(-3, 4, shape), maximize, unique=False)


def test_lsap_ties():
    rng = np.random.default_rng(2)
    for _ in range(50):
        shape = tuple(rng.integers(1, 9, 2))
        _check_against_scipy(rng.integers(0, 3, shape).astype(float), bool(rng.integers(2)), unique=False)
    _check_against_scipy(np.zeros((6, 6)), False, unique=False)
    _check_against_scipy(np.ones((4, 9)), True, unique=False)
    rows, cols = course_map.linear_sum_assignment(np.zeros((4, 4)))
    assert sorted(cols.tolist()) == [0, 1, 2, 3]


@needs_data
def test_lsap_on_the_real_agreements(counts):
    _check_against_scipy(counts, maximize=True, unique=True)


def test_lsap_edge_cases():
    rows, cols = course_map.linear_sum_assignment(np.zeros((0, 3)))
    assert rows.shape == cols.shape == (0,)
    rows, cols = course_map.linear_sum_assignment(np.array([[5]]))
    assert rows.tolist() == [0] and cols.tolist() == [0]
    with pytest.raises(GenkitError, match="finite"):
        course_map.linear_sum_assignment(np.array([[1.0, np.inf], [0.0, 1.0]]))
    with pytest.raises(GenkitError, match="2-D"):
        course_map.linear_sum_assignment(np.zeros(3))


def test_nearest_rgb():
    palette = np.array([[255, 255, 255], [0, 0, 0], [200, 0, 0]], dtype=np.uint8)
    rgb = np.array([[[250, 250, 250], [10, 0, 0], [120, 0, 0], [100, 0, 0]]], dtype=np.uint8)
    # 100 is equally far from 0 and 200: the lower index wins
    assert course_map.nearest_rgb(rgb, palette).tolist() == [[0, 1, 2, 1]]


def test_agreement_counts():
    a = np.array([[1, 2, 3], [0, 0, 0]], dtype=np.uint8)
    b = np.array([[1, 2, 0], [0, 0, 3], [9, 9, 9]], dtype=np.uint8)
    assert course_map.agreement_counts(a, b).tolist() == [[2, 1, 0], [1, 2, 0]]
