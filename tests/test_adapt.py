"""genkit.adapt: any image onto a model's input (size, palette, grey polarity), said once."""

import numpy as np
import pytest

from genkit.adapt import InputSpec, adapt
from genkit.io import Stream, read_stream
from genkit.palettes import load_palette


@pytest.fixture
def course(data_dir):
    return load_palette(str(data_dir / "pokemon" / "colormap.txt"))[0]


def test_a_raw_sprite_is_centre_cropped_and_mapped_onto_the_course_palette(data_dir, course):
    notes = []
    sprite = read_stream([str(data_dir / "pokemon" / "sprites" / "025MS.png")])
    out = adapt(sprite, InputSpec(20, 20, course, prepare="crop"), note=notes.append)
    assert out.size == (20, 20) and out.is_palette and np.array_equal(out.palette, course)
    assert len(notes) == 1 and notes[0].startswith("025MS.png: 40x40 -> centre 20x20; ")
    assert notes[0].endswith(f"mapped onto the model's {len(course)}")
    # the crop is the centre of the original, mapped colour by colour
    centre = sprite.rgb()[0, 10:30, 10:30]
    assert np.array_equal(out.indices[0], adapt(Stream(images=centre[None]), InputSpec(20, 20, course)).indices[0])


def test_a_stream_on_another_palette_of_any_size_is_remapped_and_said(course):
    small = np.array([[255, 255, 255], [200, 40, 40], [30, 30, 200]], np.uint8)
    stream = Stream(indices=np.random.default_rng(0).integers(0, 3, (2, 20, 20)).astype(np.uint8), palette=small)
    notes = []
    out = adapt(stream, InputSpec(20, 20, course), note=notes.append)
    assert np.array_equal(out.palette, course) and notes == ["2 images: 3 colours mapped onto the model's 167"]
    same = adapt(out, InputSpec(20, 20, course), note=notes.append)
    assert same is out and len(notes) == 1  # nothing to do, nothing said


def test_other_sizes_are_scaled_by_the_shorter_side_then_centre_cropped(course):
    wide = Stream(images=np.full((1, 30, 60, 3), 200, np.uint8), names=np.array(["wide.jpg"]))
    notes = []
    out = adapt(wide, InputSpec(20, 20, course), note=notes.append)
    assert out.size == (20, 20) and notes[0].startswith("wide.jpg: 60x30 -> scaled to 40x20, centre 20x20")


def test_dark_ink_on_a_light_page_is_inverted_for_a_light_on_dark_grey_model():
    grey = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    page = np.full((1, 28, 28, 3), 250, np.uint8)
    page[0, 8:20, 12:16] = 10  # a dark stroke
    notes = []
    out = adapt(Stream(images=page), InputSpec(28, 28, grey, grey=True), note=notes.append)
    assert out.indices[0, 0, 0] < 10 and out.indices[0, 10, 13] > 240
    assert "inverted to the model's light ink on dark" in notes[0]
    mnist_like = Stream(images=255 - page)
    assert adapt(mnist_like, InputSpec(28, 28, grey, grey=True)).indices[0, 10, 13] > 240


def test_a_recorded_preparation_is_replayed_whatever_form_it_was_stored_in(course):
    """A checkpoint records its training images' crop and resize as gk-quantize or a data set
    wrote them: an int side, or [H, W] lists (JSON)."""
    sprite = Stream(images=np.full((1, 40, 40, 3), 255, np.uint8))
    for crop in (20, [20, 20]):
        assert adapt(sprite, InputSpec(20, 20, course, crop=crop if isinstance(crop, int) else tuple(crop))).size == (20, 20)
    wide = Stream(images=np.full((1, 60, 120, 3), 255, np.uint8))
    notes = []
    out = adapt(wide, InputSpec(20, 20, course, resize=30, crop=(20, 20)), note=notes.append)
    assert out.size == (20, 20) and notes[0].startswith("1 image: 120x60 -> resized (shorter side 30), centre 20x20")
