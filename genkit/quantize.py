"""Colour quantization: fit one palette by k-means in CIELAB, map images onto a palette.

The lecture's point: regressing RGB gives greyish images, so each pixel becomes a 1-of-N choice
over a palette of similar colours found by clustering. Everything works on the *unique* colours
of the input with their counts as weights, so 792 sprites (317k pixels) cost what their ~20k
distinct colours cost.

Fitting: greedy k-means++ seeds from the weighted means of 3-unit Lab cubes, a few Lloyd rounds
and CIEDE2000-weighted refinement on 2-unit cubes, one last refinement step on the colours, then
the centres rounded to sRGB. Mapping: CIEDE2000 among the few nearest palette colours by Lab
distance.

Speed (issue 17: a whole gk-quantize run within 2x pngquant's): distinct colours by one radix
sort and pixels mapped through a 2^24-entry table; CIEDE2000 in float32 while fitting; the
row-wise work (candidates, assignments, the final mapping, which reuses the last step's
candidates) in two threads, one per half of the rows. The result is the same in one thread.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Callable, Sequence

import numpy as np

from .color import ciede2000, lab_to_srgb, srgb_to_lab
from .errors import GenkitError
from .io import Stream

#: How many nearest palette entries (by Euclidean Lab distance) are re-ranked by CIEDE2000.
RERANK = 4
#: A runner-up is re-ranked only if its squared Lab distance is at most this many times the
#: nearest one's, plus 1: in the mapping (farther ones do not win on CIEDE2000 in practice), and in
#: the refinement (a tighter bound: half the pairs, the clusters barely change).
RERANK_RATIO, REFINE_RATIO = 9.0, 4.0
#: k-means++ seeds from the weighted means of Lab cubes SEED_CELL units wide; Lloyd and the first
#: refinement steps run on cubes CELL wide (fewer points than colours, nearly the same result).
SEED_CELL, CELL = 3.0, 2.0
#: Lloyd iterations (Hamerly's bounds); the CIEDE2000 refinement that follows matters more.
LLOYD_ITERS = 3
#: Refinement steps weighted towards CIEDE2000: on the cubes with Euclidean, then CIEDE2000
#: assignments; then on the colours themselves with CIEDE2000 assignments.
REFINE_EUCLID, REFINE_DE, REFINE_FINAL = 2, 4, 1
#: Candidate centres per colour during refinement (the nearest by Lab distance at its start; RERANK
#: for a single step).
CANDIDATES = 8
#: Row-wise work (candidates, assignments, the mapping) runs in this many threads, of halves of
#: the rows, when there are at least PARALLEL_ROWS rows; GENKIT_THREADS=1 keeps it in one.
THREADS = 2 if (os.cpu_count() or 1) > 1 and os.environ.get("GENKIT_THREADS", "").strip() != "1" else 1
PARALLEL_ROWS = 2048


def _color_keys(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., 3) -> one int32 key per pixel, 0xRRGGBB, flat."""
    flat = np.asarray(rgb, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    return (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]


def _key_colors(keys: np.ndarray) -> np.ndarray:
    return np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=1).astype(np.uint8)


def unique_colors(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 (..., 3) -> (colours (U, 3) uint8, counts (U,), inverse (prod(...),))."""
    uniq, inverse, counts = np.unique(_color_keys(rgb), return_inverse=True, return_counts=True)
    return _key_colors(uniq), counts.astype(np.float64), inverse.reshape(-1)


def _unique_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, ascending, and their counts (float64): as np.unique, by one sort (numpy
    sorts int32 by radix; np.unique's own path is several times slower)."""
    s = np.sort(keys)
    first = np.empty(len(s), dtype=bool)
    first[:1] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return s[starts], np.diff(np.append(starts, len(s))).astype(np.float64)


def _distinct(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """uint8 RGB (..., 3) -> (each pixel's key, the distinct keys, their colours (U, 3), their
    counts): what fitting and mapping work on; :func:`_lookup` takes the result back to pixels."""
    keys = _color_keys(rgb)
    uniq, counts = _unique_keys(keys)
    return keys, uniq, _key_colors(uniq), counts


def _lookup(uniq: np.ndarray, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """uint8 ``values`` of the distinct keys ``uniq`` -> the value of each of ``keys``, through a
    table over all 2^24 colours (16 MB, allocated lazily: only the pages touched are zeroed)."""
    table = np.zeros(1 << 24, dtype=np.uint8)
    table[uniq] = values
    return table[keys]


def _sq_dists(x: np.ndarray, c: np.ndarray, x_sq: np.ndarray | None = None, *, exact: bool = True) -> np.ndarray:
    """Squared Euclidean distances (U, K): |x|^2 - 2 x.c + |c|^2, one matrix product and
    in-place adds. With ``exact=False`` the per-row |x|^2 is left out (enough for an argmin)."""
    d = x @ (-2 * c).T
    d += (c * c).sum(1)[None, :]
    if exact:
        d += ((x * x).sum(1) if x_sq is None else x_sq)[:, None]
        np.maximum(d, 0, out=d)
    return d


def _two_nearest(x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row of x: the nearest centre, its distance and the distance to the runner-up."""
    d = _sq_dists(x, c, exact=False)
    x_sq = (x * x).sum(1)
    rows = np.arange(len(x))
    a = np.argmin(d, axis=1)
    best = d[rows, a] + x_sq
    d[rows, a] = np.inf
    second = d.min(axis=1) + x_sq if c.shape[0] > 1 else np.full(len(x), np.inf, dtype=x.dtype)
    return a, np.sqrt(np.maximum(best, 0)), np.sqrt(np.maximum(second, 0))


def _kmeanspp(x: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy weighted k-means++ seeding (Arthur & Vassilvitskii 2007, with 2 + log k trials).

    The candidates' distances are laid out (trials, points), points contiguous: the products
    and adds then run down long rows (about 4x faster than (points, trials) for 3-D points)."""
    trials = 2 + int(math.log(k))
    xt = np.ascontiguousarray(x.T)
    x_sq = (x * x).sum(1)
    w32 = w.astype(x.dtype)  # the trials are scored in float32 (a float64 product would copy them)

    def draw(p: np.ndarray, size: int) -> np.ndarray:
        cdf = np.cumsum(p, dtype=np.float64)
        return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(p) - 1)

    def sq_dists(c: np.ndarray) -> np.ndarray:  # (len(c), points), as _sq_dists(x, c, x_sq).T
        d = (-2 * c) @ xt
        d += (c * c).sum(1)[:, None]
        d += x_sq[None, :]
        return np.maximum(d, 0, out=d)

    centres = np.empty((k, x.shape[1]), dtype=x.dtype)
    centres[0] = x[draw(w, 1)[0]]
    closest = sq_dists(centres[:1])[0]
    for i in range(1, k):
        p = w * closest
        if p.sum() <= 0:  # fewer distinct colours than k: the rest are duplicates
            centres[i:] = centres[0]
            break
        cand = draw(p, trials)
        cand_d = np.minimum(sq_dists(x[cand]), closest[None, :])
        best = int(np.argmin(cand_d @ w32))
        centres[i] = x[cand[best]]
        closest = cand_d[best]
    return centres


def _lloyd(x, w, centres, max_iter: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted Lloyd iterations, with Hamerly's bounds so that only the points whose nearest
    centre may have changed are measured again (most of them, after the first few rounds)."""
    k = len(centres)
    a, upper, lower = _two_nearest(x, centres)
    for _ in range(max_iter):
        mass = np.bincount(a, weights=w, minlength=k)
        sums = np.stack([np.bincount(a, weights=w * x[:, j], minlength=k) for j in range(x.shape[1])], 1)
        new = centres.copy()
        moved = mass > 0
        new[moved] = (sums[moved] / mass[moved, None]).astype(x.dtype)
        if not moved.all():  # an empty cluster takes the worst-served colours
            far = np.argsort(-(w * upper**2))[: int((~moved).sum())]
            new[~moved] = x[far]
        shift = np.sqrt(((new - centres) ** 2).sum(1))
        centres = new
        if shift.max() == 0:
            break
        upper += shift[a]
        lower -= shift.max()
        check = np.flatnonzero(upper > lower)
        if len(check):
            upper[check] = np.sqrt(((x[check] - centres[a[check]]) ** 2).sum(1))
            check = check[upper[check] > lower[check]]
        if len(check):
            a[check], upper[check], lower[check] = _two_nearest(x[check], centres)
    d = ((x - centres[a]) ** 2).sum(1)
    return centres, a, float(w @ d)


def fit_palette(rgb: np.ndarray, n_colors: int = 167, *, seed: int = 0, n_init: int = 1, max_iter: int = 300) -> np.ndarray:
    """One palette of at most ``n_colors`` colours for all of ``rgb`` (uint8 (..., 3)).

    Weighted k-means in CIELAB over the unique colours (k-means++ seeding, Lloyd iterations),
    the centres rounded to sRGB. The palette is ordered by how many pixels map to each colour,
    most used first (for sprites on white, index 0 is the white background, as in the course).
    Fewer than ``n_colors`` distinct input colours give exactly those colours.
    """
    _, _, colors, counts = _distinct(rgb)
    return _fit(colors, counts, n_colors, seed=seed, n_init=n_init, max_iter=max_iter)[0]


def _fit(colors, counts, n_colors: int, *, seed: int, n_init: int = 1, max_iter: int = 300):
    """(palette, index of each unique colour) for unique colours with their pixel counts."""
    if not 1 <= n_colors <= 256:
        raise GenkitError(f"--colors must be between 1 and 256, got {n_colors}")
    if len(colors) == 0:
        raise GenkitError("no pixels to fit a palette to")
    lab = srgb_to_lab(colors)
    if len(colors) <= n_colors:
        palette = colors
    else:
        cells, cell_counts, cell_of = _cells(lab, counts, CELL)
        if len(cells) <= 2 * n_colors:  # too few cells to seed from: use every colour
            cells, cell_counts, cell_of = lab, counts, np.arange(len(lab))
        x = cells.astype(np.float32)
        seeds, seed_counts, _ = _cells(lab, counts, SEED_CELL)
        if len(seeds) <= 2 * n_colors:
            seeds, seed_counts = cells, cell_counts
        seeds = seeds.astype(np.float32)
        rng = np.random.default_rng(seed)
        best = None
        for _ in range(max(1, n_init)):
            centres = _kmeanspp(seeds, seed_counts, n_colors, rng)
            centres, _, inertia = _lloyd(x, cell_counts, centres, max_iter=min(max_iter, LLOYD_ITERS))
            if best is None or inertia < best[1]:
                best = (centres, inertia)
        centres = _refine_ciede2000(cells, cell_counts, best[0].astype(np.float64), REFINE_EUCLID, REFINE_DE)[0]
        # the last step is on the colours themselves; each colour's candidates are its cube's
        # (the centres nearest the cube's mean, whose colours lie within a CELL-wide cube)
        near = _k_nearest(cells.astype(np.float32), centres.astype(np.float32), min(CANDIDATES, n_colors))[0]
        centres, cand = _refine_ciede2000(lab, counts, centres, 0, REFINE_FINAL, cand=near[cell_of])
        palette, of = _snap(centres)
    if len(colors) <= n_colors:
        idx = _nearest(lab, palette)
    else:  # the last step's candidates (the centres nearest each colour), now palette entries
        idx = _nearest_among(lab, srgb_to_lab(palette), of[cand])
    usage = np.bincount(idx, weights=counts, minlength=len(palette))
    order = np.lexsort((np.arange(len(palette)), -usage))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return np.ascontiguousarray(palette[order]), rank[idx]


def _cells(lab: np.ndarray, w: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lab colours binned into cubes ``size`` wide: (weighted mean Lab of each cube, its weight,
    the cube of each colour)."""
    cell = np.floor(lab / size).astype(np.int64) + 1024
    _, of = np.unique((cell[:, 0] << 22) | (cell[:, 1] << 11) | cell[:, 2], return_inverse=True)
    of = of.reshape(-1)
    mass = np.bincount(of, weights=w)
    sums = np.stack([np.bincount(of, weights=w * lab[:, j]) for j in range(3)], 1)
    return sums / mass[:, None], mass, of


def _refine_ciede2000(lab: np.ndarray, w: np.ndarray, centres: np.ndarray, euclid: int,
                      perceptual: int, *, cand: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Re-weighted Lloyd steps (Weiszfeld / IRLS) that move each centre towards the point
    minimising its colours' summed CIEDE2000 rather than their squared Lab error.

    The benchmark scores mean CIEDE2000, which squared-error k-means over-spends on rare,
    far-away colours; weighting each colour by count / CIEDE2000 to its centre fixes that. The
    first ``euclid`` steps assign colours by Lab distance, the next ``perceptual`` ones as
    ``_nearest`` does (CIEDE2000 among the nearest few), so that the clusters are the ones the
    mapping will use. Each colour considers only the CANDIDATES centres nearest to it at the start
    (or the given ``cand``, (U, n)): (the centres, those candidates).
    """
    k = len(centres)
    if cand is None:
        n = CANDIDATES if euclid + perceptual > 1 else RERANK  # one step needs no spare candidates
        cand = _k_nearest(lab.astype(np.float32), centres.astype(np.float32), min(n, k))[0]

    def assign(lab, cand, euclidean: bool) -> tuple[np.ndarray, np.ndarray]:  # each colour's centre, its CIEDE2000
        diff = lab[:, None, :] - centres[cand]
        d = np.einsum("ukc,ukc->uk", diff, diff)
        if euclidean:
            a = cand[np.arange(len(lab)), np.argmin(d, axis=1)]
            return a, ciede2000(lab, centres[a], np.float32)
        order = np.argsort(d, axis=1, kind="stable")[:, :RERANK]
        return _rerank(lab, centres, np.take_along_axis(cand, order, 1), np.take_along_axis(d, order, 1),
                       REFINE_RATIO, np.float32)

    for step in range(euclid + perceptual):
        a, de = _in_halves(lambda lab, cand: assign(lab, cand, step < euclid), lab, cand)
        wt = w / np.maximum(de, 0.3)
        mass = np.bincount(a, weights=wt, minlength=k)
        sums = np.stack([np.bincount(a, weights=wt * lab[:, j], minlength=k) for j in range(3)], 1)
        ok = mass > 0
        centres[ok] = sums[ok] / mass[ok, None]
    return centres, cand


def _in_halves(fn: Callable[..., tuple], *arrays: np.ndarray) -> tuple:
    """``fn(*arrays)`` for a function of rows that returns a tuple of row arrays, computed as
    fn of the first half of the rows here and of the second half in a thread (numpy lets go of
    the GIL inside its loops, so the halves run on two cores); the same result as one call."""
    n = len(arrays[0])
    if n < PARALLEL_ROWS or THREADS < 2:
        return fn(*arrays)
    half, out, failed = n // 2, [None, None], []

    def run(i: int, rows: slice) -> None:
        try:
            out[i] = fn(*(a[rows] for a in arrays))
        except BaseException as e:  # raised again here, in the caller
            failed.append(e)

    worker = threading.Thread(target=run, args=(1, slice(half, None)))
    worker.start()
    run(0, slice(0, half))
    worker.join()
    if failed:
        raise failed[0]
    return tuple(np.concatenate(parts) for parts in zip(*out))


def _k_nearest(x: np.ndarray, c: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` nearest centres of each row of x by Lab distance, nearest first: (indices,
    squared distances), each (U, n)."""
    return _in_halves(lambda x: _k_nearest_rows(x, c, n), x)


def _k_nearest_rows(x: np.ndarray, c: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    d = _sq_dists(x, c, exact=False)
    rows = np.arange(len(x))
    cand = np.empty((len(x), n), dtype=np.intp)
    dist = np.empty((len(x), n), dtype=np.float64)
    for r in range(n):
        cand[:, r] = np.argmin(d, axis=1)
        dist[:, r] = d[rows, cand[:, r]]
        d[rows, cand[:, r]] = np.inf
    dist += (x.astype(np.float64) ** 2).sum(1)[:, None]
    return cand, dist


def _rerank(lab: np.ndarray, pal_lab: np.ndarray, cand: np.ndarray, dist: np.ndarray,
            ratio: float = RERANK_RATIO, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Among candidate centres (nearest first, with their squared Lab distances), the one of least
    CIEDE2000 for each colour, and that difference; runners-up whose squared distance exceeds
    ``ratio`` times the nearest's + 1 are skipped."""
    de = np.full(cand.shape, np.inf, dtype=dtype)
    de[:, 0] = ciede2000(lab, pal_lab[cand[:, 0]], dtype)
    keep = dist[:, 1:] <= ratio * dist[:, :1] + 1.0
    pi, pj = np.nonzero(keep)
    de[pi, pj + 1] = ciede2000(lab[pi], pal_lab[cand[pi, pj + 1]], dtype)
    j = np.argmin(de, axis=1)
    rows = np.arange(len(lab))
    return cand[rows, j], de[rows, j]


def _snap(centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lab centres -> (distinct uint8 sRGB colours, the colour each centre became): duplicates
    after rounding are dropped, the first kept."""
    rgb = lab_to_srgb(centres)
    _, first, inverse = np.unique(rgb.astype(np.int32) @ np.array([65536, 256, 1]), return_index=True,
                                  return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rgb[first[order]], rank[inverse.reshape(-1)]


def _nearest(lab: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the perceptually nearest palette colour for each Lab colour (U, 3) -> (U,).

    Candidates are the RERANK nearest by Euclidean Lab distance; among them CIEDE2000 decides.
    """
    pal_lab = srgb_to_lab(palette)
    cand, dist = _k_nearest(lab.astype(np.float32), pal_lab.astype(np.float32), min(RERANK, len(palette)))
    if cand.shape[1] == 1:
        return cand[:, 0]
    return _rerank(lab, pal_lab, cand, dist)[0]


def _nearest_among(lab: np.ndarray, pal_lab: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """As :func:`_nearest`, among given candidate palette entries (U, n) for each colour."""

    def rows(lab, cand):
        diff = lab[:, None, :] - pal_lab[cand]
        d = np.einsum("ukc,ukc->uk", diff, diff)
        order = np.argsort(d, axis=1, kind="stable")[:, :RERANK]
        return _rerank(lab, pal_lab, np.take_along_axis(cand, order, 1), np.take_along_axis(d, order, 1),
                       dtype=np.float32)[:1]

    return _in_halves(rows, lab, cand)[0]


def _check_palette(palette) -> np.ndarray:
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or not 1 <= len(palette) <= 256:
        raise GenkitError(f"a palette must be K x 3 with 1 <= K <= 256, got {palette.shape}")
    if palette.dtype != np.uint8:
        if palette.min() < 0 or palette.max() > 255:
            raise GenkitError("palette colours must be 0..255")
        palette = palette.astype(np.uint8)
    return np.ascontiguousarray(palette)


def map_to_palette(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., 3) -> uint8 palette indices (...), nearest colour by CIEDE2000."""
    palette = _check_palette(palette)
    rgb = np.asarray(rgb, dtype=np.uint8)
    keys, uniq, colors, _ = _distinct(rgb)
    return _lookup(uniq, _nearest(srgb_to_lab(colors), palette).astype(np.uint8), keys).reshape(rgb.shape[:-1])


def quantize(stream: Stream, *, n_colors: int = 167, palette: np.ndarray | None = None, seed: int = 0) -> Stream:
    """A stream (RGB or palette-coded) -> palette-coded, on a fitted or a given palette."""
    rgb = stream.rgb()
    if palette is None:
        keys, uniq, colors, counts = _distinct(rgb)
        palette, idx = _fit(colors, counts, n_colors, seed=seed)
        indices = _lookup(uniq, idx.astype(np.uint8), keys).reshape(rgb.shape[:-1])
    else:
        palette = _check_palette(palette)
        indices = map_to_palette(rgb, palette)
    return Stream(
        indices=indices,
        palette=palette,
        names=stream.names,
        labels=stream.labels,
        mask=stream.mask,
        meta=dict(stream.meta),
    )


def delta_e(rgb_a: np.ndarray, rgb_b: np.ndarray) -> np.ndarray:
    """Per-pixel CIEDE2000 between two uint8 RGB arrays of the same shape."""
    return ciede2000(srgb_to_lab(rgb_a), srgb_to_lab(rgb_b))


def prepare(stream: Stream, *, crop: tuple[int, int] | None = None, resize: int | tuple[int, int] | None = None) -> Stream:
    """Resize (an int: the shorter side, aspect kept; (H, W): stretched), then centre-crop, every
    image of a stream; the result is RGB."""
    from .transforms import center_crop
    from .transforms import resize as resize_image

    rgb = stream.rgb()
    if resize is None and crop is None:
        out = rgb
    else:
        images = []
        for img in rgb:
            if resize is not None:
                img = resize_image(img, resize)
            if crop is not None:
                img = center_crop(img, crop)
            images.append(img)
        out = np.stack(images)
    return Stream(images=np.ascontiguousarray(out), names=stream.names, labels=stream.labels, meta=dict(stream.meta))


def quantize_sources(
    sources: Sequence[str],
    *,
    n_colors: int | None = None,
    palette: str | np.ndarray | None = None,
    crop: tuple[int, int] | None = None,
    resize: int | tuple[int, int] | None = None,
    seed: int = 0,
    skip_bad: bool = False,
    on_skip: Callable[[str, GenkitError], None] | None = None,
    on_read: Callable[[str], None] | None = None,
) -> Stream:
    """What ``gk-quantize`` does: read inputs, resize/crop each image, quantize them all onto
    one shared palette (fitted with ``n_colors`` colours, or the given palette name/file/array)."""
    from .io import concat, iter_sources

    if n_colors is not None and palette is not None:
        raise GenkitError("give --colors or --palette, not both")
    name = None
    if isinstance(palette, str):
        from .palettes import load_palette

        palette, name = load_palette(palette)
    parts = []
    for src, stream in iter_sources(sources, skip_bad=skip_bad, on_skip=on_skip):
        try:
            parts.append(prepare(stream, crop=crop, resize=resize))
        except GenkitError as e:
            e.source = e.source or src
            if not skip_bad:
                raise
            if on_skip:
                on_skip(src, e)
        if on_read:
            on_read(src)
    if not parts:
        raise GenkitError("no images in the input")
    sizes = {p.size for p in parts}
    if len(sizes) > 1:
        shown = ", ".join(f"{w}x{h}" for h, w in sorted(sizes)[:4])
        raise GenkitError(f"images differ in size ({shown}); use --crop or --resize to make them equal")
    rgb = concat(parts)
    k = n_colors if n_colors is not None else 167
    out = quantize(rgb, n_colors=k, palette=palette, seed=seed)
    out.meta = {
        **rgb.meta,
        "palette": name or ("given" if palette is not None else f"fitted-{len(out.palette)}"),
        "seed": seed,
        "crop": list(crop) if crop else None,
        "resize": (list(resize) if isinstance(resize, tuple) else resize) if resize else None,
    }
    return out
