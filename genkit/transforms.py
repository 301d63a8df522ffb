"""Geometric transforms on uint8 RGB images (H, W, 3): centre crop and resize."""

from __future__ import annotations

import re

import numpy as np

from .errors import GenkitError


#: largest --crop or --resize side, in pixels
MAX_SIDE = 8192


def parse_size(text: str, option: str = "size") -> tuple[int, int]:
    """'20' -> (20, 20); '32x24' (width x height) -> (24, 32) as (H, W); each side 1..MAX_SIDE."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+))?\s*", str(text))
    if not m:
        raise GenkitError(f"{option} must be N or WxH (e.g. 20 or 32x24), got {text!r}")
    w = int(m.group(1))
    h = int(m.group(2)) if m.group(2) else w
    if w < 1 or h < 1:
        raise GenkitError(f"{option} must be at least 1 pixel, got {text!r}")
    if w > MAX_SIDE or h > MAX_SIDE:
        raise GenkitError(f"{option} must be at most {MAX_SIDE} pixels a side, got {text!r}")
    return h, w


def parse_resize(text: str, option: str = "--resize") -> int | tuple[int, int]:
    """'64' -> 64 (the shorter side becomes 64, the aspect kept); '32x24' -> (24, 32) as (H, W),
    stretched on purpose."""
    h, w = parse_size(text, option)
    return w if re.fullmatch(r"\s*\d+\s*", str(text)) else (h, w)


def shorter_side_to(shape: tuple[int, int], n: int) -> tuple[int, int]:
    """The (H, W) that makes an image's shorter side ``n``, keeping its aspect (rounded, >= 1)."""
    H, W = shape[:2]
    if H <= W:
        return n, max(1, round(W * n / H))
    return max(1, round(H * n / W)), n


def center_crop(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The centre (H, W) of an image; for an odd margin the extra pixel goes to the bottom/right."""
    h, w = size
    H, W = img.shape[:2]
    if h > H or w > W:
        raise GenkitError(f"cannot crop {w}x{h} from a {W}x{H} image")
    top, left = (H - h) // 2, (W - w) // 2
    return img[top : top + h, left : left + w]


def resize(img: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize to (H, W), or with an int N so that the shorter side is N (the aspect kept): area
    averaging when shrinking, nearest neighbour when enlarging (pixel art)."""
    from PIL import Image

    h, w = shorter_side_to(img.shape, size) if isinstance(size, int) else size
    if (h, w) == img.shape[:2]:
        return img
    shrink = h <= img.shape[0] and w <= img.shape[1]
    method = Image.Resampling.BOX if shrink else Image.Resampling.NEAREST
    return np.asarray(Image.fromarray(img).resize((w, h), method))
