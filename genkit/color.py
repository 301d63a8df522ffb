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


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1) between broadcastable Lab arrays."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]

    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    c7 = c_bar**7
    g = 0.5 * (1 - np.sqrt(c7 / (c7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360

    dLp = L2 - L1
    dCp = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dHp = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)

    Lp_bar = (L1 + L2) / 2
    Cp_bar = (c1p + c2p) / 2
    hsum = h1p + h2p
    hp_bar = np.where(
        c1p * c2p == 0,
        hsum,
        np.where(np.abs(h1p - h2p) <= 180, hsum / 2, np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(hp_bar - 30))
        + 0.24 * np.cos(np.radians(2 * hp_bar))
        + 0.32 * np.cos(np.radians(3 * hp_bar + 6))
        - 0.20 * np.cos(np.radians(4 * hp_bar - 63))
    )
    d_theta = 30 * np.exp(-(((hp_bar - 275) / 25) ** 2))
    cp7 = Cp_bar**7
    r_c = 2 * np.sqrt(cp7 / (cp7 + 25.0**7))
    l50 = (Lp_bar - 50) ** 2
    s_l = 1 + 0.015 * l50 / np.sqrt(20 + l50)
    s_c = 1 + 0.045 * Cp_bar
    s_h = 1 + 0.015 * Cp_bar * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return np.sqrt(
        (dLp / s_l) ** 2 + (dCp / s_c) ** 2 + (dHp / s_h) ** 2 + r_t * (dCp / s_c) * (dHp / s_h)
    )


def grey_levels(stream: Stream, height: int, width: int) -> np.ndarray:
    """The stream's images as grey levels in [0, 1], (N, H, W) float32 (RGB by luminance),
    refused unless they are ``height`` x ``width`` (what the judge of genkit.realness reads)."""
    if stream.size != (height, width):
        raise GenkitError(f"images are {stream.size[1]}x{stream.size[0]} but the judge reads {width}x{height}")
    if stream.is_palette:
        pal = stream.palette.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return (pal / 255.0)[stream.indices].astype(np.float32)
    return (stream.images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)) / 255.0
