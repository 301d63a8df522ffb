"""The stream contract (genkit.io): PNG kinds, NPZ validation, sheets, sources, atomic output."""

import io
import os
import zlib
from pathlib import Path

import numpy as np
import pytest
from pngmaker import make_png

from genkit import io as gio
from genkit.errors import GenkitError

H, W = 3, 5


def grey_samples(depth):
    top = (1 << depth) - 1
    return (np.arange(H * W).reshape(H, W) * 7) % (top + 1)


def scale(v, depth):
    return np.rint(np.asarray(v) * 255 / ((1 << depth) - 1)).astype(int)


# -- every valid PNG kind -------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1, 2, 4, 8, 16])
@pytest.mark.parametrize("interlace", [False, True])
def test_grey_png_every_depth(depth, interlace):
    s = grey_samples(depth)
    out = gio.decode(make_png(s, depth, 0, interlace=interlace)).images[0]
    want = scale(s, depth)
    assert out.shape == (H, W, 3)
    assert np.abs(out[..., 0].astype(int) - want).max() <= 1
    assert (out[..., 0] == out[..., 2]).all()


@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("interlace", [False, True])
def test_rgb_and_rgba_png(depth, interlace, rng):
    top = (1 << depth) - 1
    rgb = rng.integers(0, top + 1, (H, W, 3))
    out = gio.decode(make_png(rgb, depth, 2, interlace=interlace)).images[0]
    assert np.abs(out.astype(int) - scale(rgb, depth)).max() <= 1
    alpha = np.zeros((H, W, 1), dtype=int)  # fully transparent: white, as the course composited
    alpha[0, 0] = top  # one opaque pixel keeps its colour
    out = gio.decode(make_png(np.concatenate([rgb, alpha], 2), depth, 6, interlace=interlace)).images[0]
    assert (out[1:] == 255).all()
    assert np.abs(out[0, 0].astype(int) - scale(rgb[0, 0], depth)).max() <= 1


@pytest.mark.parametrize("depth", [8, 16])
def test_grey_alpha_png_composites_on_white(depth):
    top = (1 << depth) - 1
    grey = np.zeros((H, W), dtype=int)  # black ink ...
    alpha = np.full((H, W), top // 2 + 1)  # ... at half opacity -> mid grey
    out = gio.decode(make_png(np.stack([grey, alpha], 2), depth, 4)).images[0]
    assert np.abs(out.astype(int) - 127).max() <= 1


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_palette_png_with_trns(depth):
    k = 1 << depth
    plte = np.stack([np.arange(k) * (255 // max(k - 1, 1))] * 3, 1)
    plte[:, 0] = 10  # some colour
    idx = np.arange(H * W).reshape(H, W) % k
    trns = bytes([0] + [255] * (k - 1))  # index 0 transparent
    out = gio.decode(make_png(idx, depth, 3, plte=plte, trns=trns)).images[0]
    assert (out[idx == 0] == 255).all()
    assert (out[idx != 0] == plte[idx[idx != 0]]).all()


def test_grey_with_trns_key_is_white():
    s = np.array([[0, 100], [100, 0]])
    out = gio.decode(make_png(s, 8, 0, trns=(100).to_bytes(2, "big"))).images[0]
    assert (out[s == 100] == 255).all() and (out[s == 0] == 0).all()


def test_one_by_one_png():
    out = gio.decode(make_png(np.array([[[1, 2, 3]]]), 8, 2))
    assert out.images.shape == (1, 1, 1, 3) and out.images[0, 0, 0].tolist() == [1, 2, 3]


def test_real_sprites_palette_and_rgba(sprites):
    modes = set()
    from PIL import Image

    for path in sprites:
        modes.add(Image.open(path).mode)
        img = gio.decode(path.read_bytes()).images[0]
        assert img.shape == (40, 40, 3) and img.dtype == np.uint8
        assert (img[0, 0] == 255).all()  # background is white (transparent or white)
    assert modes  # at least read something


# -- bad input ------------------------------------------------------------------------------

GOOD = make_png(np.zeros((4, 4), dtype=int), 8, 0)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"hello, world\n", "not an image"),
        (GOOD[:40], "truncated"),
        (GOOD[:20], "truncated"),
        (GOOD[:-20], "truncated"),
        (GOOD[:33] + b"\x00" * 20 + GOOD[53:], "corrupt"),
        (b"PK\x03\x04garbage", "NPZ"),
    ],
)
def test_bad_bytes_raise_one_line_errors(data, reason):
    with pytest.raises(GenkitError) as e:
        gio.decode(data)
    assert reason.lower() in str(e.value).lower()
    assert "\n" not in str(e.value)


def test_decompression_bomb_is_refused_before_decoding():
    # A 100000 x 100000 grey PNG whose compressed data is tiny.
    import struct

    w = h = 100_000
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    chunk = lambda k, d: struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))  # noqa: E731
    comp = zlib.compressobj()
    idat = comp.compress(b"\0" * (w + 1) * 16) + comp.flush()
    bomb = gio.PNG_MAGIC + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    with pytest.raises(GenkitError, match="too large"):
        gio.decode(bomb)


# -- the NPZ contract -----------------------------------------------------------------------

def palette_stream(n=3, h=4, w=5, k=7, rng=None):
    rng = rng or np.random.default_rng(1)
    return gio.Stream(
        indices=rng.integers(0, k, (n, h, w)).astype(np.uint8),
        palette=rng.integers(0, 256, (k, 3)).astype(np.uint8),
        names=np.array([f"img{i}" for i in range(n)]),
        labels=np.arange(n),
        mask=rng.random((n, h, w)) < 0.5,
        meta={"palette": "test", "crop": [4, 5]},
    )


def test_npz_round_trip_keeps_everything():
    s = palette_stream()
    back = gio.decode(s.to_npz())
    for key in ("indices", "palette", "names", "labels", "mask"):
        assert np.array_equal(getattr(back, key), getattr(s, key)), key
    assert back.meta == s.meta
    rgb = gio.Stream(images=s.rgb())
    assert np.array_equal(gio.decode(rgb.to_npz()).images, s.rgb())


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize(
    "arrays, msg",
    [
        (dict(indices=np.zeros((1, 2, 2), np.uint8)), "needs a 'palette'"),
        (dict(indices=np.full((1, 2, 2), 5, np.uint8), palette=np.zeros((3, 3), np.uint8)), "palette has 3"),
        (dict(indices=np.zeros((1, 2, 2), np.int32), palette=np.zeros((3, 3), np.uint8)), "uint8"),
        (dict(images=np.zeros((1, 2, 2, 4), np.uint8)), "N x H x W x 3"),
        (dict(images=np.zeros((1, 2, 2, 3), np.uint8), indices=np.zeros((1, 2, 2), np.uint8)), "exactly one"),
        (dict(images=np.zeros((2, 2, 2, 3), np.uint8), names=np.array(["a"])), "names"),
        (dict(images=np.zeros((1, 2, 2, 3), np.uint8), mask=np.zeros((1, 2, 2), np.uint8)), "mask"),
        (dict(images=np.zeros((1, 2, 2, 3), np.uint8), meta=np.array("{not json")), "JSON"),
        (dict(images=np.zeros((1, 2, 2, 3), np.uint8), extra=np.zeros(1)), "unknown key"),
        (dict(images=np.array([None], dtype=object)), "unreadable"),
    ],
)
def test_npz_contract_validation(arrays, msg):
    with pytest.raises(GenkitError, match=msg):
        gio.decode(npz_bytes(**arrays))


def test_npz_is_loaded_without_pickle(tmp_path):
    evil = npz_bytes(images=np.array([{"x": 1}], dtype=object))
    with pytest.raises(GenkitError):
        gio.decode(evil)


# -- PNG sheets -----------------------------------------------------------------------------

@pytest.mark.parametrize("scale, cols, pad", [(1, None, 1), (3, 2, 1), (2, 5, 0)])
def test_palette_sheet_round_trip_is_exact(scale, cols, pad):
    s = palette_stream(n=5)
    back = gio.decode(gio.encode_png(s, scale=scale, cols=cols, pad=pad))
    assert back.is_palette
    assert np.array_equal(back.indices, s.indices) and np.array_equal(back.palette, s.palette)
    assert back.names.tolist() == s.names.tolist() and back.labels.tolist() == s.labels.tolist()
    assert back.meta == s.meta


def test_rgb_sheet_round_trip_and_single_image(rng):
    imgs = rng.integers(0, 256, (3, 4, 6, 3)).astype(np.uint8)
    back = gio.decode(gio.encode_png(gio.Stream(images=imgs), scale=2))
    assert np.array_equal(back.images, imgs)
    one = gio.encode_png(gio.Stream(images=imgs[:1]))
    from PIL import Image

    assert Image.open(io.BytesIO(one)).size == (6, 4)  # one image, no padding
    assert np.array_equal(gio.decode(one).images, imgs[:1])


def test_edited_sheet_reads_as_one_image():
    s = palette_stream(n=4)
    png = gio.encode_png(s)
    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("RGB").resize((30, 30))
    buf = io.BytesIO()
    im.save(buf, format="PNG")  # chunk lost: a plain image
    assert len(gio.decode(buf.getvalue())) == 1


# -- sources and outputs --------------------------------------------------------------------

def test_sources_folders_globs_and_order(tmp_path):
    for name in ("b.png", "a.png", "c.PNG"):
        (tmp_path / name).write_bytes(GOOD)
    (tmp_path / "notes.txt").write_text("ignored")
    assert [os.path.basename(p) for p in gio.expand_sources([str(tmp_path)])] == ["a.png", "b.png", "c.PNG"]
    assert len(gio.expand_sources([str(tmp_path / "*.png")])) == 2
    with pytest.raises(GenkitError, match="no such file"):
        gio.expand_sources([str(tmp_path / "missing.png")])
    with pytest.raises(GenkitError, match="matches"):
        gio.expand_sources([str(tmp_path / "*.gif")])
    s = gio.read_stream([str(tmp_path)])
    assert len(s) == 3 and s.names.tolist() == ["a.png", "b.png", "c.PNG"]


def test_skip_bad_reports_and_goes_on(tmp_path):
    (tmp_path / "a.png").write_bytes(GOOD)
    (tmp_path / "b.png").write_bytes(b"")
    with pytest.raises(GenkitError, match="b.png: empty"):
        gio.read_stream([str(tmp_path)])
    skipped = []
    s = gio.read_stream([str(tmp_path)], skip_bad=True, on_skip=lambda src, e: skipped.append(src))
    assert len(s) == 1 and [os.path.basename(p) for p in skipped] == ["b.png"]


def test_mixed_sizes_refused():
    a = gio.Stream(images=np.zeros((1, 2, 2, 3), np.uint8))
    b = gio.Stream(images=np.zeros((1, 3, 2, 3), np.uint8))
    with pytest.raises(GenkitError, match="differ in size"):
        gio.concat([a, b])


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.npz"
    gio.write_file_atomic(target, b"first")
    assert target.read_bytes() == b"first"

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        gio.write_file_atomic(target, b"second")
    assert target.read_bytes() == b"first"  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]  # no temp file left


def test_refuses_binary_to_a_terminal(monkeypatch):
    class Tty(io.BytesIO):
        def isatty(self):
            return True

    fake = Tty()
    monkeypatch.setattr("sys.stdout", fake)
    with pytest.raises(GenkitError, match="terminal"):
        gio.write_bytes(b"\x89PNG", None, what="PNG data", hint="> out.png")
    assert fake.getvalue() == b""


# -- other image formats (issue 19) ---------------------------------------------------------------


def _encoded(fmt: str, rgb: np.ndarray, **kw) -> bytes:
    import io as _io

    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt, exact", [("JPEG", False), ("GIF", True), ("BMP", True), ("WEBP", False), ("TIFF", True)])
def test_every_format_pillow_decodes_is_read(fmt, exact, rng):
    from genkit.io import decode

    rgb = np.zeros((12, 10, 3), np.uint8)
    rgb[:6] = (200, 30, 40)
    rgb[6:] = (20, 60, 220)
    kw = {"quality": 95, "subsampling": 0} if fmt == "JPEG" else {"lossless": True} if fmt == "WEBP" else {}
    stream = decode(_encoded(fmt, rgb, **kw))
    assert stream.images.shape == (1, 12, 10, 3)
    diff = np.abs(stream.images[0].astype(int) - rgb)
    assert diff.max() == 0 if exact else diff.mean() < 4  # lossy JPEG: close on average


def test_a_gif_gives_its_first_frame():
    import io as _io

    from PIL import Image

    from genkit.io import decode

    frames = [Image.fromarray(np.full((4, 4, 3), v, np.uint8)) for v in (0, 255)]
    buf = _io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    assert decode(buf.getvalue()).images[0].max() == 0


def test_a_corrupt_jpeg_is_one_line():
    from genkit.io import decode

    data = _encoded("JPEG", np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(GenkitError, match="corrupt or truncated JPEG"):
        decode(data[: len(data) // 3])


def test_a_folder_reads_every_image_format_and_names_the_rest(tmp_path):
    from genkit.io import expand_sources, read_stream

    rgb = np.full((5, 5, 3), 128, np.uint8)
    (tmp_path / "a.jpg").write_bytes(_encoded("JPEG", rgb))
    (tmp_path / "b.bmp").write_bytes(_encoded("BMP", rgb))
    (tmp_path / "c.png").write_bytes(_encoded("PNG", rgb))
    (tmp_path / "notes.txt").write_text("hello")
    skipped: list[str] = []
    files = expand_sources([str(tmp_path)], skipped=skipped)
    assert [Path(f).name for f in files] == ["a.jpg", "b.bmp", "c.png"]
    assert [Path(f).name for f in skipped] == ["notes.txt"]
    assert len(read_stream([str(tmp_path)])) == 3


def test_resize_n_keeps_the_aspect_and_wxh_stretches():
    from genkit.transforms import parse_resize, resize

    wide = np.zeros((40, 80, 3), np.uint8)
    assert parse_resize("20") == 20 and parse_resize("30x10") == (10, 30)
    assert resize(wide, 20).shape == (20, 40, 3)
    assert resize(wide.transpose(1, 0, 2), 20).shape == (40, 20, 3)
    assert resize(wide, (10, 30)).shape == (10, 30, 3)


# -- text input (sentences) -----------------------------------------------------------------------


def test_bad_text_lines_are_counted_not_fatal(tmp_path):
    from genkit.text import MAX_LINE, read_sentences

    path = tmp_path / "lines.txt"
    path.write_bytes("a fine line\n".encode() + b"x" * (MAX_LINE + 1) + b"\n" + "bell\x07 and\x1b[31m colour\n".encode())
    notes = []
    data = read_sentences([str(path)], note=notes.append)
    assert data.texts == ["a fine line", "bell and[31m colour"]
    assert notes == [f"{path}: skipped 1 line over {MAX_LINE:,} characters; removed control characters from 1 line"]


def test_text_that_is_not_utf8_or_empty_or_a_gzip_bomb_is_one_line(tmp_path):
    import gzip

    from genkit import text
    from genkit.text import read_sentences

    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(GenkitError, match=r"line 1 is not UTF-8 \(byte 0xe9 at column 4\)"):
        read_sentences([str(bad)])
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert len(read_sentences([str(empty)])) == 0
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(b"a\n" * 5000))
    old = text.MAX_TEXT_BYTES
    try:
        text.MAX_TEXT_BYTES = 1000
        with pytest.raises(GenkitError, match="decompresses to over"):
            read_sentences([str(bomb)])
    finally:
        text.MAX_TEXT_BYTES = old
    (tmp_path / "cut.gz").write_bytes(gzip.compress(b"a line\n" * 100)[:-12])
    with pytest.raises(GenkitError, match="bad gzip data"):
        read_sentences([str(tmp_path / "cut.gz")])


def test_to_rgb_of_opaque_images_equals_compositing_on_white():
    """Opaque modes take a shortcut (no RGBA round trip); it must give what compositing gives,
    and a writable array. Keyed transparency still goes through the compositing path."""
    from PIL import Image

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (12, 10, 3)).astype(np.uint8)

    def composited(im):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint16)
        alpha = rgba[..., 3:4]
        return ((rgba[..., :3] * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)

    keyed = Image.fromarray(a).quantize(16)
    keyed.info["transparency"] = 3
    for im in (Image.fromarray(a), Image.fromarray(a[..., 0]), Image.fromarray(a).quantize(16), keyed):
        got = gio.to_rgb(im)
        assert got.dtype == np.uint8 and got.flags.writeable and np.array_equal(got, composited(im)), im.mode
    assert (gio.to_rgb(keyed)[np.asarray(keyed) == 3] == 255).all()
