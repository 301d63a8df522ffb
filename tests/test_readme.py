"""The README cannot drift: every command line of its command sections runs, exit code 0.

The lines run in order, in a temporary folder laid out like the repository's neighbourhood
(``../shared/data/pokemon`` with a dozen sprites, ``sprites/``, ``photos/``, the files the
examples name), in-process (tests/readme_shell.py), with ``GENKIT_QUICK`` cutting every data set
to its first examples and every training run to one epoch a leg. Lines that need other
hardware are marked in the README (``<!-- readme-test: skip REASON -->``) and skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from readme_shell import command_lines, run_line

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("Commands", "GAN", "Writing poetry", "The model zoo")
SPRITES = ["001MS.png", "004MS.png", "007MS.png", "010MS.png", "015MS.png", "020MS.png", "025MS.png",
           "030MS.png", "035MS.png", "040MS.png", "045MS.png", "050MS.png"]

pytestmark = pytest.mark.slow


def _lines():
    return command_lines(ROOT / "README.md", SECTIONS)


def test_the_readme_has_command_lines_to_check():
    lines = _lines()
    assert len(lines) >= 30
    assert {line.section for line in lines} >= {"Commands", "GAN"}


@pytest.fixture(scope="module")
def place(tmp_path_factory, data_dir):
    """A folder laid out for the README's examples; returns the working folder."""
    from PIL import Image

    from genkit import datasets
    from genkit.io import Stream, write_stream

    top = tmp_path_factory.mktemp("readme")
    pokemon = top / "shared" / "data" / "pokemon"
    (pokemon / "sprites").mkdir(parents=True)
    for name in SPRITES:
        (pokemon / "sprites" / name).symlink_to(data_dir / "pokemon" / "sprites" / name)
    for name in ("colormap.txt", "pixel_color.txt"):
        (pokemon / name).symlink_to(data_dir / "pokemon" / name)
    work = top / "work"
    work.mkdir()
    (work / "checkpoints").symlink_to(ROOT / "checkpoints")  # the README's commands run in the repository
    (work / "sprites").symlink_to(pokemon / "sprites")
    (work / "photos").mkdir()
    for i, (name, size) in enumerate([("001MS.png", (80, 60)), ("004MS.png", (60, 90)), ("007MS.png", (64, 64))]):
        img = Image.open(pokemon / "sprites" / name).convert("RGB").resize(size)
        img.save(work / "photos" / f"photo{i}.jpg", quality=90)
    for link, name in (("a.png", "025MS.png"), ("b.png", "007MS.png")):
        (work / link).symlink_to(pokemon / "sprites" / name)
    digits = datasets.load("mnist", split="test").select(slice(0, 8))
    write_stream(digits.select([3, 2]), str(work / "pair.npz"), "npz")
    write_stream(digits, str(work / "digits.npz"), "npz")
    write_stream(digits.select([4]), str(work / "my-three.png"), "png", scale=1)
    write_stream(datasets.load("pokemon", split="test").select(slice(0, 4)), str(work / "test.npz"), "npz")
    eyes = np.zeros((1, 20, 20, 3), np.uint8)
    eyes[0, :10] = 255
    write_stream(Stream(images=eyes), str(work / "eyes.png"), "png", scale=1)
    (work / "lines.txt").write_text("the cat sat on the mat\nthe dog ran in the park\n" * 20)
    return work


@pytest.mark.parametrize("line", _lines(), ids=lambda line: f"L{line.number}")
def test_a_readme_line_runs(line, place, monkeypatch):
    if line.skip:
        pytest.skip(line.skip)
    monkeypatch.chdir(place)
    monkeypatch.setenv("GENKIT_QUICK", os.environ.get("GENKIT_QUICK", "48"))
    code, out, err = run_line(line.text, place, CliRunner())
    assert code == 0, f"README line {line.number}: {line.text}\nexit {code}\n{err}"
