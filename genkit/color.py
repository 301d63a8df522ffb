"""Colour science for palettes: sRGB <-> CIELAB (D65), the CIEDE2000 difference, and grey levels.

Everything is vectorised numpy over arrays whose last axis holds the three channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import GenkitError

if TYPE_CHECKING:
    from .io import Stream

# sRGB primaries (IEC 61966-2-1) to CIE XYZ, D65 white.
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE = _RGB_TO_XYZ.sum(axis=1)  # XYZ of sRGB (1, 1, 1): the D65 reference white
_EPS = 216 / 24389
_KAPPA = 24389 / 27


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 (or 0..255 float) sRGB, shape (..., 3) -> float64 CIELAB, shape (..., 3)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPS, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB, shape (..., 3) -> uint8 sRGB (rounded, clipped to the gamut)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    fx = fy + lab[..., 1] / 500
    fz = fy - lab[..., 2] / 200
    f = np.stack([fx, fy, fz], axis=-1)
    xyz = np.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA) * _WHITE
    lin = np.clip(xyz @ _XYZ_TO_RGB.T, 0.0, 1.0)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(c * 255.0), 0, 255).astype(np.uint8)


_C25_7 = 25.0**7
# cos and sin of the phase offsets in CIEDE2000's hue weighting T (30, 6 and 63 degrees)
_T_PHASES = {d: (float(np.cos(np.radians(d))), float(np.sin(np.radians(d)))) for d in (30, 6, 63)}


def ciede2000(lab1: np.ndarray, lab2: np.ndarray, dtype=np.float64) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1) between broadcastable Lab arrays.

    Sharma, Wu & Dalal (2005) with the hue terms written as vectors: dH' from the dot and cross
    products of the (a', b) pairs, the mean hue as the bisector of the shorter arc, and T's
    cosines from cos/sin of that one angle (equal to the angle form to ~1e-10). ``dtype``
    float32 computes in single precision, about 1.6x as fast: within 1e-4 of a unit on Sharma's
    test pairs and under 0.01 on 50,000 random ones. Enough to rank and weight colours while
    fitting a palette; scores stay float64.
    """
    lab1 = np.asarray(lab1, dtype=dtype)
    lab2 = np.asarray(lab2, dtype=dtype)
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    c_bar = (np.sqrt(a1 * a1 + b1 * b1) + np.sqrt(a2 * a2 + b2 * b2)) * 0.5
    c7 = c_bar**7
    g1 = 1.5 - 0.5 * np.sqrt(c7 / (c7 + _C25_7))  # 1 + G
    a1p = g1 * a1
    a2p = g1 * a2
    c1p = np.sqrt(a1p * a1p + b1 * b1)
    c2p = np.sqrt(a2p * a2p + b2 * b2)

    # dH' = 2 sqrt(C1' C2') sin(dh'/2), dh' in (-180, 180]: |dH'|^2 = 2 (C1' C2' - a1' a2' - b1 b2),
    # its sign that of sin(dh'), i.e. of the cross product (0 where a chroma is 0).
    dHp = np.sqrt(np.maximum(2.0 * (c1p * c2p - a1p * a2p - b1 * b2), 0.0))
    dHp = np.where(a1p * b2 - b1 * a2p < 0, -dHp, dHp)

    # Mean hue h': the bisector of the shorter arc between the hues; a zero chroma has no hue
    # (h' is then the other one's). Opposite hues (an empty sum) take the smaller hue + 90.
    with np.errstate(divide="ignore"):
        inv1 = np.where(c1p > 0, 1.0 / c1p, 0.0)
        inv2 = np.where(c2p > 0, 1.0 / c2p, 0.0)
    ux = a1p * inv1 + a2p * inv2
    uy = b1 * inv1 + b2 * inv2
    hp = np.arctan2(uy, ux)
    # the sum of two opposite unit vectors is rounding noise: ~1e-32 in float64, ~1e-14 in float32
    tiny = 1e-20 if np.dtype(dtype).itemsize >= 8 else 1e-10
    opposite = (ux * ux + uy * uy < tiny) & (c1p > 0) & (c2p > 0)
    if opposite.any():
        shape = opposite.shape
        h1 = np.arctan2(np.broadcast_to(b1, shape)[opposite], np.broadcast_to(a1p, shape)[opposite]) % (2 * np.pi)
        h2 = np.arctan2(np.broadcast_to(b2, shape)[opposite], np.broadcast_to(a2p, shape)[opposite]) % (2 * np.pi)
        hp[opposite] = np.minimum(h1, h2) + np.pi / 2
    hp = np.where(hp < 0, hp + 2 * np.pi, hp)
    cos1, sin1 = np.cos(hp), np.sin(hp)
    cos2, sin2 = 2 * cos1 * cos1 - 1, 2 * sin1 * cos1
    cos3, sin3 = cos2 * cos1 - sin2 * sin1, sin2 * cos1 + cos2 * sin1
    cos4, sin4 = 2 * cos2 * cos2 - 1, 2 * sin2 * cos2
    (c30, s30), (c6, s6), (c63, s63) = _T_PHASES[30], _T_PHASES[6], _T_PHASES[63]
    t = (
        1
        - 0.17 * (cos1 * c30 + sin1 * s30)  # cos(h' - 30)
        + 0.24 * cos2  # cos(2h')
        + 0.32 * (cos3 * c6 - sin3 * s6)  # cos(3h' + 6)
        - 0.20 * (cos4 * c63 + sin4 * s63)  # cos(4h' - 63)
    )
    d_theta = 30 * np.exp(-(((np.degrees(hp) - 275) / 25) ** 2))
    cp_bar = (c1p + c2p) * 0.5
    cp7 = cp_bar**7
    r_c = 2 * np.sqrt(cp7 / (cp7 + _C25_7))
    l50 = ((L1 + L2) * 0.5 - 50) ** 2
    s_l = 1 + 0.015 * l50 / np.sqrt(20 + l50)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    dl = (L2 - L1) / s_l
    dc = (c2p - c1p) / s_c
    dh = dHp / s_h
    return np.sqrt(dl * dl + dc * dc + dh * dh + r_t * dc * dh)


def grey_levels(stream: Stream, height: int, width: int) -> np.ndarray:
    """The stream's images as grey levels in [0, 1], (N, H, W) float32 (RGB by luminance),
    refused unless they are ``height`` x ``width`` (what the judge of genkit.realness reads)."""
    if stream.size != (height, width):
        raise GenkitError(f"images are {stream.size[1]}x{stream.size[0]} but the judge reads {width}x{height}")
    if stream.is_palette:
        pal = stream.palette.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return (pal / 255.0)[stream.indices].astype(np.float32)
    return (stream.images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)) / 255.0
