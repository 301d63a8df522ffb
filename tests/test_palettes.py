"""Palette files: names under palettes/, text/NPZ/PNG round trips, bad files."""

import numpy as np
import pytest

from genkit import io as gio
from genkit.errors import GenkitError
from genkit.palettes import grey256, is_grey, load_palette, palette_names, parse_text, save_palette


def test_shipped_palettes():
    assert {"bw", "grey16", "pokemon-167"} <= set(palette_names())
    bw, name = load_palette("bw")
    assert name == "bw" and bw.tolist() == [[0, 0, 0], [255, 255, 255]]
    grey, _ = load_palette("grey16")
    assert len(grey) == 16 and (grey[:, 0] == grey[:, 1]).all() and grey[-1].tolist() == [255] * 3
    poke, _ = load_palette("pokemon-167")
    assert poke.shape == (167, 3) and poke[0].tolist() == [255, 255, 255]


@pytest.mark.parametrize("k", [1, 2, 16, 167, 256])
@pytest.mark.parametrize("ext", ["txt", "npz", "png"])
def test_round_trip(tmp_path, k, ext):
    pal = np.random.default_rng(k).integers(0, 256, (k, 3)).astype(np.uint8)
    save_palette(pal, tmp_path / f"p.{ext}")
    back, name = load_palette(str(tmp_path / f"p.{ext}"))
    assert np.array_equal(back, pal) and name == "p"


def test_course_colormap_format_and_comments():
    pal = parse_text("# a comment\n255 255 255\n\n53,53,53\n 0 0 0  # black\n")
    assert pal.tolist() == [[255, 255, 255], [53, 53, 53], [0, 0, 0]]


def test_palette_from_a_genkit_sheet(tmp_path):
    s = gio.Stream(indices=np.array([[[0, 1], [2, 2]]], np.uint8), palette=np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.uint8))
    (tmp_path / "sheet.png").write_bytes(gio.encode_png(s, scale=2))
    pal, _ = load_palette(str(tmp_path / "sheet.png"))
    assert np.array_equal(pal, s.palette)  # the sheet's padding colour is not part of it


@pytest.mark.parametrize(
    "content, msg",
    [
        (b"", "empty"),
        (b"1 2\n", "three integers"),
        (b"1 2 300\n", "three integers"),
        (b"red green blue\n", "integers"),
        (b"# only a comment\n", "1 to 256"),
        ("\n".join(["1 1 1"] * 257).encode(), "1 to 256"),
        (b"\xff\xfe\x00", "not a palette"),
    ],
)
def test_bad_palette_files(tmp_path, content, msg):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(GenkitError, match=msg):
        load_palette(str(path))


def test_unknown_palette_name_lists_the_names():
    with pytest.raises(GenkitError, match="pokemon-167"):
        load_palette("no-such-palette")


def test_rgb_png_is_not_a_palette(tmp_path):
    (tmp_path / "x.png").write_bytes(gio.encode_png(gio.Stream(images=np.zeros((1, 2, 2, 3), np.uint8))))
    with pytest.raises(GenkitError, match="no palette"):
        load_palette(str(tmp_path / "x.png"))


def test_grey_palettes():
    g = grey256()
    assert g.shape == (256, 3) and g.dtype == np.uint8 and g[7].tolist() == [7, 7, 7]
    assert is_grey(g) and is_grey(load_palette("bw")[0])
    assert not is_grey(load_palette("pokemon-167")[0])
