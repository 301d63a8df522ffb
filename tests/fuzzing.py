"""Seeded mutations of genkit's inputs (PNG, JPEG, GIF, BMP, NPZ, .keras), for tests/test_fuzz.py
and ``make fuzz``.

Each case is (what was done, bytes). Mutations: bit flips, truncations, overwritten runs of
bytes, PNG chunks with wrong lengths or huge declared dimensions (CRC fixed, so the reader's
own checks are what is tried), and NPZ streams built with wrong dtypes, NaN and inf, indices
negative or past the palette, and arrays of mismatched lengths.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np


def seeds(sprites: list) -> dict[str, bytes]:
    """Valid inputs to mutate: real sprites as PNG (as shipped), re-encoded as JPEG, GIF, BMP and
    WebP, and NPZ streams (palette-coded with names, labels and a mask; RGB)."""
    from PIL import Image

    from genkit.io import Stream

    out = {f"png:{p.name}": p.read_bytes() for p in sprites[:2]}
    rgb = np.asarray(Image.open(sprites[0]).convert("RGB"))
    for fmt in ("JPEG", "GIF", "BMP", "WEBP"):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format=fmt)
        out[fmt.lower()] = buf.getvalue()
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 4, (3, 6, 5)).astype(np.uint8)
    palette = np.array([[255, 255, 255], [0, 0, 0], [200, 30, 30], [30, 30, 200]], np.uint8)
    out["npz:palette"] = Stream(indices=idx, palette=palette, names=np.array(["a", "b", "c"]),
                                labels=np.array([0, 1, 2]), mask=idx > 1, meta={"k": 1}).to_npz()
    out["npz:rgb"] = Stream(images=rgb[None, :8, :8].copy()).to_npz()
    return out


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npz_cases() -> list[tuple[str, bytes]]:
    """Streams whose arrays break the contract in each way the issue lists."""
    ok_idx = np.zeros((2, 4, 4), np.uint8)
    pal = np.zeros((3, 3), np.uint8)
    meta = np.array("{}")
    return [
        ("npz float indices with NaN", _npz(indices=np.full((2, 4, 4), np.nan), palette=pal, meta=meta)),
        ("npz float images with inf", _npz(images=np.full((1, 4, 4, 3), np.inf, np.float32), meta=meta)),
        ("npz negative int indices", _npz(indices=-np.ones((2, 4, 4), np.int16), palette=pal, meta=meta)),
        ("npz indices past the palette", _npz(indices=ok_idx + 7, palette=pal, meta=meta)),
        ("npz empty palette", _npz(indices=ok_idx, palette=np.zeros((0, 3), np.uint8), meta=meta)),
        ("npz palette of 300 colours", _npz(indices=ok_idx, palette=np.zeros((300, 3), np.uint8), meta=meta)),
        ("npz float palette with NaN", _npz(indices=ok_idx, palette=np.full((3, 3), np.nan), meta=meta)),
        ("npz names too short", _npz(indices=ok_idx, palette=pal, names=np.array(["a"]), meta=meta)),
        ("npz labels too long", _npz(indices=ok_idx, palette=pal, labels=np.arange(5), meta=meta)),
        ("npz negative labels", _npz(indices=ok_idx, palette=pal, labels=np.array([-1, 3]), meta=meta)),
        ("npz float labels", _npz(indices=ok_idx, palette=pal, labels=np.array([0.5, np.nan]), meta=meta)),
        ("npz mask of another size", _npz(indices=ok_idx, palette=pal, mask=np.zeros((2, 3, 3), bool), meta=meta)),
        ("npz int mask", _npz(indices=ok_idx, palette=pal, mask=np.zeros((2, 4, 4), np.int8), meta=meta)),
        ("npz 2-D indices", _npz(indices=np.zeros((4, 4), np.uint8), palette=pal, meta=meta)),
        ("npz both indices and images", _npz(indices=ok_idx, palette=pal, images=np.zeros((2, 4, 4, 3), np.uint8))),
        ("npz meta not JSON", _npz(indices=ok_idx, palette=pal, meta=np.array("{oops"))),
        ("npz meta a number", _npz(indices=ok_idx, palette=pal, meta=np.array(3))),
        ("npz unknown key", _npz(indices=ok_idx, palette=pal, evil=np.zeros(3))),
        ("npz object array", _object_npz()),
        ("npz nothing", _npz()),
    ]


def _object_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, indices=np.array([{"a": 1}], dtype=object))
    return buf.getvalue()


def png_cases(png: bytes) -> list[tuple[str, bytes]]:
    """A valid PNG with its IHDR rewritten (huge or zero dimensions, bad depth) and chunks whose
    declared length lies, CRCs fixed where the header changes."""
    ihdr = png[16:29]
    width, height = struct.unpack(">II", ihdr[:8])
    rest = png[33:]
    out = []
    for name, w, h in (("huge", 1 << 30, 1 << 30), ("wide", 1 << 31 - 1, 1), ("zero", 0, height), ("one", 1, 1)):
        body = struct.pack(">II", w, h) + ihdr[8:]
        out.append((f"png {name} dimensions", png[:8] + _png_chunk(b"IHDR", body) + rest))
    out.append(("png bit depth 3", png[:8] + _png_chunk(b"IHDR", ihdr[:8] + b"\x03" + ihdr[9:]) + rest))
    out.append(("png length past the end", png[:33] + struct.pack(">I", 1 << 31) + png[37:]))
    out.append(("png length short by one", png[:33] + struct.pack(">I", max(0, struct.unpack(">I", png[33:37])[0] - 1)) + png[37:]))
    out.append(("png no IEND", png[:-12]))
    out.append(("png IDAT not zlib", png[:8] + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"not zlib at all") + _png_chunk(b"IEND", b"")))
    bomb = zlib.compress(b"\x00" * (1 << 22))
    out.append(("png 4 MiB of zeros for a 2x2 image", png[:8] + _png_chunk(b"IHDR", struct.pack(">II", 2, 2) + ihdr[8:])
                + _png_chunk(b"IDAT", bomb) + _png_chunk(b"IEND", b"")))
    return out


def mutations(data: bytes, rng: np.random.Generator, n: int, label: str) -> list[tuple[str, bytes]]:
    """``n`` random mutations of ``data``: bit flips, truncations, overwritten byte runs,
    duplicated or dropped runs."""
    out = []
    size = len(data)
    for _ in range(n):
        kind = rng.integers(5)
        b = bytearray(data)
        if kind == 0:
            for _ in range(int(rng.integers(1, 9))):
                pos = int(rng.integers(size))
                b[pos] ^= 1 << int(rng.integers(8))
            what = "bit flips"
        elif kind == 1:
            b = b[: int(rng.integers(1, size))]
            what = "truncated"
        elif kind == 2:
            pos, run = int(rng.integers(size)), int(rng.integers(1, 32))
            b[pos : pos + run] = rng.integers(0, 256, min(run, size - pos), dtype=np.uint8).tobytes()
            what = "overwritten run"
        elif kind == 3:
            pos, run = int(rng.integers(size)), int(rng.integers(1, 64))
            b[pos:pos] = b[pos : pos + run]
            what = "duplicated run"
        else:
            pos, run = int(rng.integers(size)), int(rng.integers(1, 64))
            del b[pos : pos + run]
            what = "dropped run"
        out.append((f"{label} {what}", bytes(b)))
    return out


def cases(sprites: list, n: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """``n`` random mutations spread over the seed files, after every structured case."""
    rng = np.random.default_rng(seed)
    base = seeds(sprites)
    out = npz_cases() + png_cases(base[next(k for k in base if k.startswith("png:"))])
    per = max(1, n // len(base))
    for label, data in base.items():
        out += mutations(data, rng, per, label)
    return out
