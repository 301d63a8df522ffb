"""A tiny PNG encoder for tests: every bit depth, colour type, tRNS and Adam7 interlacing,
so that the decoder is tested on PNG kinds Pillow itself cannot write."""

from __future__ import annotations

import struct
import zlib

import numpy as np

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _pack_rows(samples: np.ndarray, depth: int) -> bytes:
    out = bytearray()
    for row in samples:
        out.append(0)  # filter: none
        flat = row.reshape(-1).astype(np.int64)
        if depth == 16:
            out += flat.astype(">u2").tobytes()
        elif depth == 8:
            out += flat.astype(np.uint8).tobytes()
        else:
            per = 8 // depth
            padded = np.zeros(-(-len(flat) // per) * per, dtype=np.int64)
            padded[: len(flat)] = flat
            for i in range(0, len(padded), per):
                byte = 0
                for v in padded[i : i + per]:
                    byte = (byte << depth) | int(v)
                out.append(byte)
    return bytes(out)


def make_png(samples: np.ndarray, depth: int, color_type: int, *, plte=None, trns: bytes | None = None,
             interlace: bool = False, text: dict | None = None) -> bytes:
    """samples: (H, W) or (H, W, C) integer array of raw sample values."""
    samples = np.asarray(samples)
    if samples.ndim == 2:
        samples = samples[..., None]
    h, w, c = samples.shape
    assert c == CHANNELS[color_type]
    if interlace:
        raw = b"".join(
            _pack_rows(samples[ys::dy, xs::dx], depth)
            for xs, ys, dx, dy in ADAM7
            if samples[ys::dy, xs::dx].size
        )
    else:
        raw = _pack_rows(samples, depth)
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace)))
    if plte is not None:
        png += _chunk(b"PLTE", bytes(np.asarray(plte, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        png += _chunk(b"tRNS", trns)
    for key, value in (text or {}).items():
        png += _chunk(b"tEXt", key.encode() + b"\0" + value.encode())
    return png + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")
