"""How an image VAE's decoder distribution becomes a picture (``--decode``); numpy only.

The decoder gives each pixel a distribution: a categorical over the palette, or a Bernoulli ink
probability. A picture takes one colour per pixel:

- ``greedy``: the most likely colour (a Bernoulli pixel: ink when p > ½). On a palette decoder
  this is often the outline colour: the dark outline is one palette entry while a body's colour is
  spread over many similar ones, so the argmax draws grey silhouettes.
- ``mean``: the expected colour, mapped to the nearest palette colour (Euclidean CIELAB). The
  expectation is taken in LCh: lightness and chroma are averaged as they are, the hue is that of
  the mean (a, b). (The plain mean in Lab averages opposite hues to grey; averaging the chroma's
  size keeps the colour's strength.) A Bernoulli pixel's mean is its ink probability as a grey
  level, the usual picture of such a decoder.
- ``sample``: one draw per pixel from its distribution (seeded).
"""

from __future__ import annotations

import numpy as np

from ...color import srgb_to_lab
from ...errors import GenkitError

DECODINGS = ("greedy", "mean", "sample")  # --decode for a VAE's images
DEFAULT = "mean"


def check(decode: str) -> str:
    """``decode`` if it is one of DECODINGS, else a one-line GenkitError."""
    if decode not in DECODINGS:
        raise GenkitError(f"--decode for images must be greedy, mean or sample, got {decode!r}")
    return decode


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis, float32."""
    z = logits.astype(np.float32) - logits.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of probabilities p (..., K), by inverse CDF."""
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(p.shape[:-1] + (1,), dtype=np.float32) * cdf[..., -1:]
    return np.minimum((cdf < u).sum(axis=-1), p.shape[-1] - 1)


def nearest(lab: np.ndarray, palette_lab: np.ndarray) -> np.ndarray:
    """Index of the palette colour nearest each Lab colour (..., 3), Euclidean in Lab."""
    flat = lab.reshape(-1, 3).astype(np.float32)
    table = palette_lab.astype(np.float32)
    d = (flat**2).sum(1, keepdims=True) - 2.0 * flat @ table.T + (table**2).sum(1)[None, :]
    return d.argmin(axis=1).reshape(lab.shape[:-1])


def expected_lch(p: np.ndarray, palette_lab: np.ndarray) -> np.ndarray:
    """Each pixel's expected colour in Lab (..., 3) for probabilities p (..., K): mean L, mean
    chroma, hue of the mean (a, b)."""
    table = palette_lab.astype(np.float32)
    chroma = np.hypot(table[:, 1], table[:, 2])
    mean = p @ table
    ab = mean[..., 1:]
    size = np.linalg.norm(ab, axis=-1, keepdims=True)
    mean[..., 1:] = ab / np.maximum(size, 1e-6) * (p @ chroma)[..., None]
    return mean


def palette_pixels(logits: np.ndarray, palette: np.ndarray, decode: str, rng: np.random.Generator,
                   palette_lab: np.ndarray | None = None) -> np.ndarray:
    """Palette indices (..., ) uint8 for categorical logits (..., K) over ``palette`` (K, 3) RGB."""
    if decode == "greedy":
        return logits.argmax(-1).astype(np.uint8)
    p = softmax(logits)
    if decode == "sample":
        return draw(p, rng).astype(np.uint8)
    lab = srgb_to_lab(palette) if palette_lab is None else palette_lab
    return nearest(expected_lch(p, lab), lab).astype(np.uint8)


def ink_levels(logits: np.ndarray, decode: str, rng: np.random.Generator) -> np.ndarray:
    """Grey levels 0..255 uint8 for Bernoulli logits: p·255 (mean), ink where p > ½ (greedy), or a draw."""
    if decode == "mean":
        return np.rint(255.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))).astype(np.uint8)
    p = 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))
    if decode == "greedy":
        return np.where(p > 0.5, 255, 0).astype(np.uint8)
    return np.where(rng.random(p.shape, dtype=np.float32) < p, 255, 0).astype(np.uint8)
