"""Which sprite each line of the course's ``pixel_color.txt`` is.

The course published its 792 crops without names and not in file-name order. Each line is
matched to its sprite by quantizing every sprite's 20x20 centre crop onto the course's palette
(plain nearest colour, Euclidean in RGB) and counting equal pixels; the lines are then assigned
to the sprites one-to-one so that the total agreement is largest (an exact linear assignment,
:func:`linear_sum_assignment`, in numpy: the runtime library does not depend on scipy).

On the published data the right sprite agrees on 94.75% of pixels (median) and every line's best
sprite is already a different sprite, so the assignment is the unique optimum. Nearest colour by
CIEDE2000 (:func:`genkit.quantize.map_to_palette`) agrees less (median 86.5%): the course
quantized in RGB.

``python -m genkit.datasets.course_map`` recomputes the mapping from the data and writes
``pokemon_course_names.txt`` beside this module (shipped with the package; read by
:func:`genkit.datasets.pokemon.course_names`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..errors import GenkitError
from ..io import Stream, write_file_atomic
from . import pokemon

COMMAND = "python -m genkit.datasets.course_map"


# --------------------------------------------------------------------------------------------
# Linear assignment (exact; shortest augmenting paths, as scipy's LAPJV variant)
# --------------------------------------------------------------------------------------------


def linear_sum_assignment(cost: np.ndarray, maximize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """An optimal one-to-one assignment of rows to columns, like ``scipy.optimize.linear_sum_assignment``.

    ``cost`` is a finite 2-D array, square or rectangular; min(rows, cols) pairs are made.
    Returns ``(row_ind, col_ind)`` with ``row_ind`` increasing. Exact: it is the shortest
    augmenting path method with dual potentials (Jonker & Volgenant 1987, in the rectangular
    form of Crouse 2016 that scipy uses), each path search vectorised over the columns.
    With integer-valued costs every sum is exact in float64.
    """
    c = np.asarray(cost)
    if c.ndim != 2:
        raise GenkitError(f"the cost matrix must be 2-D, got {c.ndim}-D")
    if c.dtype.kind not in "biuf":
        raise GenkitError(f"the cost matrix must be numeric, got {c.dtype}")
    c = c.astype(np.float64)
    if not np.isfinite(c).all():
        raise GenkitError("the cost matrix must be finite")
    if maximize:
        c = -c
    transposed = c.shape[0] > c.shape[1]
    if transposed:
        c = c.T
    col4row = _lsap(c)
    rows = np.arange(c.shape[0])
    if not transposed:
        return rows, col4row
    order = np.argsort(col4row)
    return col4row[order], rows[order]


def _lsap(c: np.ndarray) -> np.ndarray:
    """col4row for a minimisation with rows <= cols (finite float64 costs)."""
    nr, nc = c.shape
    u = np.zeros(nr)
    v = np.zeros(nc)
    col4row = np.full(nr, -1, dtype=np.intp)
    row4col = np.full(nc, -1, dtype=np.intp)
    for cur in range(nr):
        shortest = np.full(nc, np.inf)
        path = np.full(nc, -1, dtype=np.intp)
        seen_rows = np.zeros(nr, dtype=bool)
        seen_cols = np.zeros(nc, dtype=bool)
        min_val = 0.0
        i = cur
        while True:
            seen_rows[i] = True
            reduced = min_val + c[i] - u[i] - v
            better = ~seen_cols & (reduced < shortest)
            shortest[better] = reduced[better]
            path[better] = i
            open_ = np.where(seen_cols, np.inf, shortest)
            min_val = float(open_.min())
            ties = np.flatnonzero(open_ == min_val)
            free = ties[row4col[ties] < 0]
            j = int(free[0] if len(free) else ties[0])  # prefer ending the path now
            seen_cols[j] = True
            if row4col[j] < 0:
                break
            i = int(row4col[j])
        # dual update
        u[cur] += min_val
        others = seen_rows.copy()
        others[cur] = False
        u[others] += min_val - shortest[col4row[others]]
        v[seen_cols] -= min_val - shortest[seen_cols]
        # augment along the path back to cur
        while True:
            i = int(path[j])
            row4col[j] = i
            col4row[i], j = j, int(col4row[i])
            if i == cur:
                break
    return col4row


# --------------------------------------------------------------------------------------------
# Quantize the sprites' crops the course's way, and compare
# --------------------------------------------------------------------------------------------


def nearest_rgb(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., 3) -> uint8 palette indices (...): nearest colour by Euclidean RGB distance
    (ties to the lower index), computed once per distinct colour."""
    from ..quantize import unique_colors

    rgb = np.asarray(rgb, dtype=np.uint8)
    colors, _, inverse = unique_colors(rgb)
    x = colors.astype(np.int64)
    p = np.asarray(palette, dtype=np.int64)
    d = (x * x).sum(1)[:, None] - 2 * x @ p.T + (p * p).sum(1)[None, :]  # exact integers
    return np.argmin(d, axis=1).astype(np.uint8)[inverse].reshape(rgb.shape[:-1])


def sprite_codes(sprites: Stream, palette: np.ndarray, rule: str = "rgb") -> np.ndarray:
    """(N, 400) palette indices of each sprite's 20x20 centre crop, by ``rule`` "rgb" (Euclidean
    nearest colour, what the course did) or "lab" (CIEDE2000, :func:`genkit.quantize.map_to_palette`)."""
    from ..transforms import center_crop

    crops = np.stack([center_crop(img, (pokemon.CROP, pokemon.CROP)) for img in sprites.rgb()])
    if rule == "rgb":
        codes = nearest_rgb(crops, palette)
    elif rule == "lab":
        from ..quantize import map_to_palette

        codes = map_to_palette(crops, palette)
    else:
        raise GenkitError(f"unknown nearest-colour rule {rule!r} (rgb or lab)")
    return codes.reshape(len(crops), -1)


def agreement_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, P) and (M, P) codes -> (N, M) int: how many of the P positions hold the same code."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise GenkitError(f"cannot compare codes of shapes {a.shape} and {b.shape}")
    counts = np.zeros((a.shape[0], b.shape[0]), dtype=np.int32)
    bt = np.ascontiguousarray(b.T)
    for p in range(a.shape[1]):
        counts += a[:, p, None] == bt[p][None, :]
    return counts


def agreement_matrix(course: Stream, sprites: Stream, rule: str = "rgb") -> np.ndarray:
    """(course lines, sprites) fraction of equal pixels between each line and each sprite's crop."""
    codes = sprite_codes(sprites, course.palette, rule)
    lines = course.indices.reshape(len(course), -1)
    return agreement_counts(lines, codes) / lines.shape[1]


def match_course_to_sprites(course: Stream, sprites: Stream, rule: str = "rgb") -> tuple[list[str], np.ndarray]:
    """The sprite name of each course line and that pair's agreement (fraction of equal pixels).

    ``course`` is :func:`pokemon.load_course` (palette-coded 20x20 crops), ``sprites`` is
    :func:`pokemon.load_sprites` (named 40x40 RGB); as many sprites as lines are needed. The
    assignment is one-to-one and maximises the total number of equal pixels.
    """
    if not course.is_palette or course.size != (pokemon.CROP, pokemon.CROP):
        raise GenkitError("course must be palette-coded 20x20 crops (pokemon.load_course())")
    if sprites.names is None:
        raise GenkitError("sprites must carry names (pokemon.load_sprites())")
    if len(sprites) != len(course):
        raise GenkitError(f"{len(course)} course lines but {len(sprites)} sprites: cannot match one-to-one")
    codes = sprite_codes(sprites, course.palette, rule)
    lines = course.indices.reshape(len(course), -1)
    counts = agreement_counts(lines, codes)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    names = [str(sprites.names[j]) for j in cols]
    return names, counts[rows, cols] / lines.shape[1]


# --------------------------------------------------------------------------------------------
# The shipped file
# --------------------------------------------------------------------------------------------


def header() -> str:
    sha = pokemon.COURSE_FILES["pixel_color.txt"]
    return (
        f"# below, line n = the sprite file of line n of the course's pixel_color.txt (sha256 {sha[:16]}...); "
        f"made by `{COMMAND}` (20x20 centre crop, RGB nearest colour in colormap.txt, "
        "one-to-one assignment maximising equal pixels)"
    )


def render(names: list[str]) -> bytes:
    return ("\n".join([header(), *names]) + "\n").encode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="the pokemon folder (default: data_root()/pokemon)")
    parser.add_argument(
        "--output", default=str(pokemon.COURSE_NAMES_FILE), help="where to write (default: %(default)s)"
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the output file differs")
    args = parser.parse_args(argv)
    try:
        paths = pokemon.course_files(args.data_dir)
        if not pokemon.is_published_course(paths["pixel_color.txt"]):
            raise GenkitError("not the published file (sha256 differs)", source=str(paths["pixel_color.txt"]))
        course = pokemon.load_course(args.data_dir, names=False)
        sprites = pokemon.load_sprites(args.data_dir)
        names, agreement = match_course_to_sprites(course, sprites)
        data = render(names)
        print(
            f"{len(names)} lines matched; agreement min {agreement.min():.4f}, median "
            f"{np.median(agreement):.4f}, mean {agreement.mean():.4f}",
            file=sys.stderr,
        )
        out = Path(args.output)
        if args.check:
            same = out.is_file() and out.read_bytes() == data
            print(f"{out}: {'up to date' if same else 'DIFFERS'}", file=sys.stderr)
            return 0 if same else 1
        write_file_atomic(out, data)
        print(f"wrote {out}", file=sys.stderr)
        return 0
    except GenkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


__all__ = [
    "agreement_counts",
    "agreement_matrix",
    "linear_sum_assignment",
    "match_course_to_sprites",
    "nearest_rgb",
    "sprite_codes",
]


if __name__ == "__main__":
    sys.exit(main())
