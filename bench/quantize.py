"""Benchmark: one global 167-colour palette for the Pokemon sprites, method against method.

What it measures. The 792 sprites (40x40, transparency composited on white) are read with
``genkit.io.read_stream`` and centre-cropped to 20x20; those crops are the reference. Each
method builds one palette of at most 167 colours for all crops; every crop pixel is then mapped
to its palette with the same function for every row (``genkit.quantize.map_to_palette``) and
scored with per-pixel CIEDE2000 against the original crop (mean and 95th percentile).

Time is the best of ``--repeat`` runs (quality comes from one run) of:
  * in-process methods: palette fit + ``map_to_palette`` of all crops;
  * the course's colormap.txt: ``map_to_palette`` only (its palette is fixed);
  * pngquant: the wall time of the subprocess (process start, PNG read, quantize, PNG write).

Pillow and pngquant see the crops as one 720x440 mosaic (36 x 22 tiles of 20x20).
The run ends with the target check: genkit's mean CIEDE2000 <= 1.30, the lowest of all rows,
in at most 2x pngquant's time. On a small shared machine single timings swing by 2x, so that
ratio comes from extra runs of genkit and pngquant taken alternately (both see the same load).
Whole processes (issue 17): ``gk-quantize MOSAIC.png -o OUT.png`` (this tree's code: PYTHONPATH
is set to it) against ``pngquant --nofs --speed 4 167``, each a fresh process, one untimed run
of each first, then the best of ``--rounds`` interleaved runs (both see the same load); each row's
quality is that of the PNG the process wrote, against the mosaic (pngquant's own mapping here).
Target: gk-quantize's time at most 2x pngquant's (stretch 1.5x), its mean CIEDE2000 at most
1.217 (stretch 1.10). ``--only process`` runs just these rows.

Results go to ``<out>/quantize.md`` and ``<out>/quantize.json`` (written atomically).

    python bench/quantize.py [--data SPRITES_DIR] [--out bench/results] [--repeat 3] [--rounds 11]
                             [--only all|process]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/quantize.py` works without PYTHONPATH

import PIL  # noqa: E402
from PIL import Image, features  # noqa: E402

from bench.common import RESULTS, ROOT, Run, fmt, verdict, write_report  # noqa: E402
from genkit.color import lab_to_srgb, srgb_to_lab  # noqa: E402
from genkit.io import read_stream  # noqa: E402
from genkit.quantize import delta_e, fit_palette, map_to_palette, unique_colors  # noqa: E402
from genkit.transforms import center_crop  # noqa: E402

N_COLORS = 167
CROP = (20, 20)
GRID = (22, 36)  # mosaic rows x columns of 20x20 tiles: 440 x 720 pixels
SEEDS = range(5)
TARGET_MEAN = 1.30
TARGET_TIME_FACTOR = 2.0
TARGET_ROUNDS = 7  # interleaved genkit / pngquant runs for the target's time ratio
PROCESS_MEAN, PROCESS_MEAN_STRETCH = 1.217, 1.10  # issue 17: gk-quantize as a whole process
PROCESS_FACTOR, PROCESS_FACTOR_STRETCH = 2.0, 1.5

#: A runner returns (palette uint8 (K, 3), the seconds that count as its time).
Runner = Callable[[], tuple[np.ndarray, float]]


@dataclass
class Row:
    method: str
    mean: float | None = None
    p95: float | None = None
    time_s: float | None = None
    palette_size: int | None = None
    timed: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def default_sprites_dir() -> Path:
    data = os.environ.get("GENKIT_DATA") or ROOT.parent / "shared" / "data"
    return Path(data) / "pokemon" / "sprites"


def load_crops(sprites_dir: Path) -> np.ndarray:
    """The reference: every sprite's 20x20 centre, uint8 (N, 20, 20, 3)."""
    stream = read_stream([str(sprites_dir)])
    return np.stack([center_crop(img, CROP) for img in stream.images])


def make_mosaic(crops: np.ndarray) -> np.ndarray:
    """(792, 20, 20, 3) -> one (440, 720, 3) image, tiles in row-major order."""
    rows, cols = GRID
    h, w = crops.shape[1:3]
    return crops.reshape(rows, cols, h, w, 3).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, 3)


def load_colormap(path: Path) -> np.ndarray:
    table = np.loadtxt(path, dtype=np.int64, ndmin=2)
    if table.shape[1] != 3 or table.min() < 0 or table.max() > 255:
        raise ValueError(f"{path}: expected lines of 'R G B' in 0..255, got shape {table.shape}")
    return table.astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Palette makers
# ---------------------------------------------------------------------------------------------


def in_process(fit: Callable[[], np.ndarray], crops: np.ndarray) -> Runner:
    """Time a palette fit together with the mapping of every crop pixel onto it."""

    def run():
        start = time.perf_counter()
        palette = fit()
        map_to_palette(crops, palette)
        return palette, time.perf_counter() - start

    return run


def used_palette(img: Image.Image) -> np.ndarray:
    """The palette entries a P-mode image actually uses, in palette order."""
    palette = np.array(img.getpalette(), dtype=np.uint8).reshape(-1, 3)
    return palette[np.unique(np.asarray(img))]


def pillow_fit(mosaic: Image.Image, method: Image.Quantize) -> Callable[[], np.ndarray]:
    return lambda: used_palette(mosaic.quantize(N_COLORS, method=method, dither=Image.Dither.NONE))


def kmeans_lab_fit(crops: np.ndarray) -> np.ndarray:
    """scikit-learn KMeans in CIELAB over the unique colours, weighted by pixel count."""
    from sklearn.cluster import KMeans

    colors, counts, _ = unique_colors(crops)
    km = KMeans(N_COLORS, n_init=1, random_state=0).fit(srgb_to_lab(colors), sample_weight=counts)
    return distinct(lab_to_srgb(km.cluster_centers_))


def kmeans_rgb_fit(crops: np.ndarray) -> np.ndarray:
    """scikit-learn KMeans in sRGB over all pixels (the naive reference)."""
    from sklearn.cluster import KMeans

    km = KMeans(N_COLORS, n_init=1, random_state=0).fit(crops.reshape(-1, 3).astype(np.float32))
    return distinct(np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8))


def distinct(palette: np.ndarray) -> np.ndarray:
    """Drop colours repeated after rounding, keeping first occurrences in order."""
    _, first = np.unique(palette, axis=0, return_index=True)
    return palette[np.sort(first)]


def pngquant_runner(exe: str, mosaic_png: Path, dither: bool) -> Runner:
    out = mosaic_png.with_name("fs.png" if dither else "nofs.png")
    cmd = [exe, "--force", *([] if dither else ["--nofs"]), str(N_COLORS), "--output", str(out), str(mosaic_png)]

    def run():
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        with Image.open(out) as img:
            return used_palette(img), elapsed

    return run


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def score(crops: np.ndarray, palette: np.ndarray) -> tuple[float, float]:
    """(mean, 95th percentile) of per-pixel CIEDE2000 after nearest-colour mapping."""
    de = delta_e(crops, palette[map_to_palette(crops, palette)])
    return float(de.mean()), float(np.percentile(de, 95))


def measure(method: str, runner: Runner, crops: np.ndarray, repeat: int, timed: str, note: str = "") -> Row:
    palette, best = runner()
    for _ in range(repeat - 1):
        best = min(best, runner()[1])
    mean, p95 = score(crops, palette)
    return Row(method, mean, p95, best, len(palette), timed, note)


def seed_summary(first: Row, crops: np.ndarray, repeat: int) -> Row:
    """genkit over seeds 0..4 (seed 0 reused from ``first``): mean of the figures, min/max of the mean."""
    runs = [first] + [
        measure(f"seed {s}", in_process(lambda s=s: fit_palette(crops, N_COLORS, seed=s), crops), crops, repeat, "")
        for s in SEEDS[1:]
    ]
    means = [r.mean for r in runs]
    per_seed = [dict(seed=s, mean=r.mean, p95=r.p95, time_s=r.time_s, palette_size=r.palette_size)
                for s, r in zip(SEEDS, runs)]
    return Row(
        f"genkit fit_palette, seeds {SEEDS[0]}-{SEEDS[-1]} (average)",
        float(np.mean(means)),
        float(np.mean([r.p95 for r in runs])),
        float(np.mean([r.time_s for r in runs])),
        min(r.palette_size for r in runs),
        first.timed,
        f"mean ΔE00 over seeds: min {min(means):.3f}, max {max(means):.3f}",
        dict(per_seed=per_seed, mean_min=min(means), mean_max=max(means)),
    )


def unavailable(method: str, why: str) -> Row:
    return Row(method, note=why)


def run_all(crops: np.ndarray, colormap_path: Path, repeat: int, pngquant: str | None,
            workdir: Path) -> tuple[list[Row], dict]:
    """Every row, then the target check; ``workdir`` holds the mosaic PNG and pngquant's outputs."""
    mosaic = Image.fromarray(make_mosaic(crops))
    mosaic_png = workdir / "mosaic.png"
    mosaic.save(mosaic_png)
    fit_map = "fit + map_to_palette"
    genkit_run = in_process(lambda: fit_palette(crops, N_COLORS, seed=0), crops)
    genkit = measure("genkit fit_palette (seed 0)", genkit_run, crops, repeat, fit_map)
    rows = [genkit, seed_summary(genkit, crops, repeat)]

    if colormap_path.is_file():
        colormap = load_colormap(colormap_path)
        rows.append(measure("course colormap.txt", in_process(lambda: colormap, crops), crops, repeat,
                            "map_to_palette only"))
    else:
        rows.append(unavailable("course colormap.txt", f"not found: {colormap_path}"))

    for name, method in (("MEDIANCUT", Image.Quantize.MEDIANCUT), ("FASTOCTREE", Image.Quantize.FASTOCTREE)):
        rows.append(measure(f"Pillow {name}", in_process(pillow_fit(mosaic, method), crops), crops, repeat, fit_map))
    if features.check("libimagequant"):
        rows.append(measure("Pillow LIBIMAGEQUANT", in_process(pillow_fit(mosaic, Image.Quantize.LIBIMAGEQUANT), crops),
                            crops, repeat, fit_map))
    else:
        rows.append(unavailable("Pillow LIBIMAGEQUANT", "not built (PIL.features.check('libimagequant') is false)"))

    rows += pngquant_rows(pngquant, mosaic_png, crops, repeat)
    rows += sklearn_rows(crops, repeat, fit_map)

    times = (None, None)
    if pngquant:
        times = paired_times(genkit_run, pngquant_runner(pngquant, mosaic_png, dither=False), TARGET_ROUNDS)
    return rows, target_check(rows, *times, TARGET_ROUNDS)


def pngquant_rows(exe: str | None, mosaic_png: Path, crops: np.ndarray, repeat: int) -> list[Row]:
    names = ("pngquant --nofs", "pngquant (dithered; palette only)")
    if exe is None:
        return [unavailable(n, "not installed") for n in names]
    return [measure(n, pngquant_runner(exe, mosaic_png, dither), crops, repeat, "subprocess wall time")
            for n, dither in zip(names, (False, True))]


def sklearn_rows(crops: np.ndarray, repeat: int, timed: str) -> list[Row]:
    names = ("scikit-learn KMeans, Lab, weighted unique colours", "scikit-learn KMeans, RGB, all pixels")
    try:
        import sklearn  # noqa: F401  (a dev-only dependency)
    except ImportError:
        return [unavailable(n, "scikit-learn not installed") for n in names]
    return [measure(n, in_process(lambda f=f: f(crops), crops), crops, repeat, timed)
            for n, f in zip(names, (kmeans_lab_fit, kmeans_rgb_fit))]


def gk_quantize_cmd(mosaic_png: Path, out: Path) -> tuple[list[str], dict]:
    """``gk-quantize`` on the mosaic, as a user runs it (the console script when this Python has
    one, else ``python -m cli.quantize``), with this tree's code first on the path."""
    script = Path(sys.executable).with_name("gk-quantize")
    exe = [str(script)] if script.is_file() else [sys.executable, "-m", "cli.quantize"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    # Bytecode is cached, as for any installed package (pip compiles numpy's and typer's at
    # install): an environment that forbids writing it would time genkit's compilation instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return [*exe, str(mosaic_png), "-o", str(out)], env


def process_rows(pngquant: str | None, mosaic_png: Path, rounds: int) -> tuple[list[Row], dict]:
    """gk-quantize and pngquant --nofs --speed 4 as whole processes on the mosaic PNG: best of
    ``rounds`` interleaved runs each; quality of the PNG each wrote, against the mosaic."""
    ref = np.asarray(Image.open(mosaic_png).convert("RGB"))
    gk_out, pq_out = mosaic_png.with_name("gk.png"), mosaic_png.with_name("pq.png")
    gk_cmd, gk_env = gk_quantize_cmd(mosaic_png, gk_out)
    cmds = {"gk-quantize": (gk_cmd, gk_env, gk_out)}
    if pngquant:
        cmds["pngquant --nofs --speed 4"] = (
            [pngquant, "--force", "--nofs", "--speed", "4", str(N_COLORS), "--output", str(pq_out), str(mosaic_png)],
            None, pq_out)
    best = {name: math.inf for name in cmds}
    cpu = dict(best)  # user + system CPU seconds: less swayed by other jobs than the wall time
    for name, (cmd, env, _) in cmds.items():  # one untimed run each: bytecode written, files cached
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(rounds):
        for name, (cmd, env, _) in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            best[name] = min(best[name], time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name] = min(cpu[name], after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    rows = []
    for name, (cmd, _, out) in cmds.items():
        with Image.open(out) as img:
            got = np.asarray(img.convert("RGB"))
            size = len(used_palette(img)) if img.mode == "P" else len(unique_colors(got)[0])
        de = delta_e(ref, got)
        shown_cmd = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)).replace(str(mosaic_png.parent) + "/", "")
        rows.append(Row(f"{name} (whole process)", float(de.mean()), float(np.percentile(de, 95)), best[name], size,
                        f"process wall time, best of {rounds} interleaved",
                        f"`{shown_cmd}`; its own mapping; CPU {cpu[name]:.3f} s", dict(cpu_s=cpu[name])))
    return rows, process_check(rows[0], rows[1] if pngquant else None, rounds)


def process_check(gk: Row, png: Row | None, rounds: int) -> dict:
    """Issue 17's target for the whole processes (and its stretch)."""
    ratio = gk.time_s / png.time_s if png else None
    cpu_ratio = gk.extra["cpu_s"] / png.extra["cpu_s"] if png and png.extra["cpu_s"] > 0 else None
    checks = {
        "mean_ok": gk.mean <= PROCESS_MEAN,
        "time_ok": ratio is not None and ratio <= PROCESS_FACTOR,
        "mean_stretch": gk.mean <= PROCESS_MEAN_STRETCH,
        "time_stretch": ratio is not None and ratio <= PROCESS_FACTOR_STRETCH,
    }
    met = checks["mean_ok"] and checks["time_ok"]
    line = (
        f"Whole-process target: gk-quantize's mean CIEDE2000 <= {PROCESS_MEAN} (stretch {PROCESS_MEAN_STRETCH}) in at "
        f"most {PROCESS_FACTOR:g}x (stretch {PROCESS_FACTOR_STRETCH:g}x) pngquant's time -> {verdict(met)} "
        f"(mean {gk.mean:.3f}; "
        + (f"time {gk.time_s:.3f} s = {ratio:.2f}x pngquant's {png.time_s:.3f} s, best of {rounds} interleaved runs "
           f"each (CPU time: {cpu_ratio:.2f}x); stretch: mean {verdict(checks['mean_stretch'])}, "
           f"time {verdict(checks['time_stretch'])})"
           if ratio is not None else "pngquant not available: time not checked)")
    )
    return dict(met=met, **checks, gk_time_s=gk.time_s, pngquant_time_s=png.time_s if png else None,
                time_ratio=ratio, cpu_ratio=cpu_ratio, rounds=rounds, line=line)


def paired_times(a: Runner, b: Runner, rounds: int) -> tuple[float, float]:
    """Best times of two runners run alternately, so that both see the same machine load."""
    times = [(a()[1], b()[1]) for _ in range(rounds)]
    return min(t[0] for t in times), min(t[1] for t in times)


def target_check(rows: list[Row], genkit_time: float | None, png_time: float | None, rounds: int) -> dict:
    """genkit: mean <= 1.30, the lowest mean of all rows, time <= 2x pngquant --nofs (interleaved timing)."""
    genkit = rows[0]
    others = [r for r in rows[2:] if r.mean is not None]  # rows[1] is genkit itself over seeds
    best_other = min(others, key=lambda r: r.mean)
    ratio = genkit_time / png_time if png_time else None
    checks = {
        "mean_ok": genkit.mean <= TARGET_MEAN,
        "lowest_ok": genkit.mean < best_other.mean,
        "time_ok": ratio is not None and ratio <= TARGET_TIME_FACTOR,
    }
    line = (
        f"Target: mean CIEDE2000 <= {TARGET_MEAN:.2f}, the lowest of all rows, in at most "
        f"{TARGET_TIME_FACTOR:g}x pngquant's time -> {verdict(all(checks.values()))} "
        f"(genkit mean {genkit.mean:.3f} {'<=' if checks['mean_ok'] else '>'} {TARGET_MEAN:.2f}; "
        f"next best {best_other.method} {best_other.mean:.3f}; "
        + (f"time {genkit_time:.3f} s = {ratio:.2f}x pngquant --nofs {png_time:.3f} s, "
           f"best of {rounds} interleaved runs each)" if ratio is not None
           else "pngquant not available: time not checked)")
    )
    return dict(met=all(checks.values()), **checks, genkit_time_s=genkit_time, pngquant_time_s=png_time,
                time_ratio=ratio, timing_rounds=rounds, next_best=best_other.method, line=line)


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def tool_version(exe: str | None) -> str:
    if exe is None:
        return "not installed"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True)
    return (out.stdout or out.stderr).strip()


def metadata(run: Run, sprites_dir: Path, n: int, pngquant: str | None, repeat: int) -> dict:
    try:
        import sklearn

        sk_version = sklearn.__version__
    except ImportError:
        sk_version = "not installed"
    return run.meta(
        pillow=PIL.__version__,
        pngquant=tool_version(pngquant),
        scikit_learn=sk_version,
        data=os.path.relpath(sprites_dir, ROOT),
        images=n,
        crop=f"{CROP[1]}x{CROP[0]}",
        n_colors=N_COLORS,
        timing=f"best of {repeat} runs",
    )


def markdown(meta: dict, rows: list[Row], verdicts: list[str]) -> str:
    head = [
        "# Palette quantization benchmark",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        f"- versions: Python {meta['python']}, numpy {meta['numpy']}, Pillow {meta['pillow']}, "
        f"pngquant {meta['pngquant']}, scikit-learn {meta['scikit_learn']}",
        f"- command: `{meta['command']}`",
        f"- data: {meta['images']} sprites from `{meta['data']}`, {meta['crop']} centre crops; "
        f"{meta['n_colors']} colours; every palette mapped with `map_to_palette`, scored with `delta_e`",
        f"- time: {meta['timing']}; what is timed is in the 'timed' column; the target's time ratio comes "
        f"from {TARGET_ROUNDS} more runs of genkit (seed 0) and pngquant --nofs, alternating, best of each",
        "",
        "| method | mean ΔE00 | p95 ΔE00 | time s | palette size | timed | note |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    body = [
        f"| {r.method} | {fmt(r.mean, 3)} | {fmt(r.p95, 3)} | {fmt(r.time_s, 3)} | "
        f"{'—' if r.palette_size is None else r.palette_size} | {r.timed} | {r.note} |"
        for r in rows
    ]
    return "\n".join(head + body + [line for v in verdicts for line in ("", v)] + [""])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=default_sprites_dir(),
                    help="folder of sprite PNGs; colormap.txt is read from its parent (default: $GENKIT_DATA or "
                         "../shared/data, + pokemon/sprites)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for quantize.md/.json")
    ap.add_argument("--repeat", type=int, default=3, help="timing runs per row; the best counts (default 3)")
    ap.add_argument("--rounds", type=int, default=11,
                    help="interleaved runs of each whole process; the best counts (default 11)")
    ap.add_argument("--only", choices=("all", "process"), default="all",
                    help="process: only the whole-process rows (gk-quantize vs pngquant)")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.rounds < 1:
        ap.error("--repeat and --rounds must be at least 1")
    if not args.data.is_dir():
        ap.error(f"no sprites folder at {args.data} (give --data or set GENKIT_DATA)")

    run = Run(__file__, argv)
    pngquant = shutil.which("pngquant")
    crops = load_crops(args.data)
    with tempfile.TemporaryDirectory(prefix="genkit-bench-") as tmp:
        # The whole processes first: the in-process rows start thread pools here (OpenBLAS,
        # scikit-learn's OpenMP) whose idle workers spin for a while and would take CPU from them.
        Image.fromarray(make_mosaic(crops)).save(Path(tmp) / "mosaic.png")
        more, process = process_rows(pngquant, Path(tmp) / "mosaic.png", args.rounds)
        rows, target = [], None
        if args.only == "all":
            rows, target = run_all(crops, args.data.parent / "colormap.txt", args.repeat, pngquant, Path(tmp))
    meta = metadata(run, args.data.resolve(), len(crops), pngquant, args.repeat)
    text = markdown(meta, rows + more, [t["line"] for t in (target, process) if t])
    write_report(args.out, "quantize", text,
                 dict(meta=meta, rows=[asdict(r) for r in rows + more], target=target, process_target=process))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
