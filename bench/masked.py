"""Benchmark: the masked family against the shipped PixelCNN on the course's Pokemon test sprites --
completion, sampling speed against the number of steps, and the test NLL bound.

On the 81 test sprites (``genkit.datasets.load("pokemon", split="test")``, 20x20, 167 colours):

1. **Completion**, scored the same way for both models: ``complete_stream(test, mask=M, k=8,
   seed=0)`` for three masks M: the bottom half hidden (rows 10-19), the top half hidden (rows
   0-9), and a random 50% hidden (``random_keep(20, 20, 0.5, seed=0)``, the mask of
   ``gk-complete --keep-random 0.5``). Scores: the share of hidden pixels given their true colour
   (the mean over the 8 draws and the 81 sprites), and the CIEDE2000 of the best of the 8 to the
   original (per completion the mean difference over its hidden pixels; the smallest of the 8;
   the mean over the sprites). The masked model completes in ``--steps`` steps (default 32),
   random order.
2. **Sampling speed**: sprites/s drawing a batch of 64 (seed 0, temperature 1) in S steps for
   each S of ``--sweep``, best of ``--repeat`` after a warm-up batch; beside it the PixelCNN's
   cached rate (its stepper, 400 steps) measured in the same run. A sample-quality figure at each
   S: the samples' NLL under the PixelCNN in bits/px (a judge, not a truth: lower is more
   PixelCNN-like; its own samples are scored too).
3. **Test NLL**: the masked model's ELBO bound (``evaluate_stream``, ``--k`` masking rates per
   sprite, seed 0, with its Monte-Carlo standard error) beside the PixelCNN's exact NLL.

    python bench/masked.py [--masked PATH] [--pixelcnn PATH] [--out bench/results] [--quick]

``--quick`` debugs the script: tiny untrained stand-ins for both models, 8 sprites, small
sizes; nothing is written unless ``--out`` is given. Timings are only final on a quiet machine
(the report records the load average).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/masked.py` works without PYTHONPATH

from bench.common import Run, best_time, fmt, logger, meta_lines, out_folder, publish, shown  # noqa: E402
from genkit import datasets, models  # noqa: E402
from genkit.color import ciede2000, srgb_to_lab  # noqa: E402
from genkit.io import Stream  # noqa: E402
from genkit.models.capabilities import random_keep  # noqa: E402

LN2 = math.log(2.0)
FULL = dict(k=8, steps=32, sweep=(8, 16, 32, 64, 100, 200), batch=64, repeat=2, elbo_k=128, sprites=None)
QUICK = dict(k=2, steps=4, sweep=(2, 4), batch=8, repeat=1, elbo_k=4, sprites=8)
QUICK_MODELS = {"pixelcnn": dict(embed=8, channels=8, layers=2, head=16),
                "masked": dict(embed=8, channels=8, blocks=2, head=16)}

log = logger("masked")


def masks(h: int, w: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The three completion masks (True = kept)."""
    rows = np.arange(h)[:, None] < h // 2
    return {"bottom half hidden": np.broadcast_to(rows, (h, w)).copy(),
            "top half hidden": np.broadcast_to(~rows, (h, w)).copy(),
            "random 50% hidden": random_keep(h, w, 0.5, seed)}


def completion_scores(model, test: Stream, mask: np.ndarray, k: int, extra: dict) -> dict:
    """Share of hidden pixels right (mean over draws and sprites) and the mean best-of-k CIEDE2000."""
    start = time.perf_counter()
    done = model.complete_stream(test, mask=mask, k=k, seed=0, **extra)
    seconds = time.perf_counter() - start
    lab = srgb_to_lab(test.palette.astype(np.float64))
    delta = ciede2000(lab[:, None], lab[None, :])  # (K, K)
    truth = np.repeat(test.indices, k, axis=0).astype(np.int64)
    drawn = done.indices.astype(np.int64)
    hidden = ~mask
    right = (drawn[:, hidden] == truth[:, hidden]).mean(axis=1)
    de = delta[drawn[:, hidden], truth[:, hidden]].mean(axis=1).reshape(len(test), k)
    return {"right": float(right.mean()), "best_ciede2000": float(de.min(axis=1).mean()), "seconds": round(seconds, 1)}



def judged_bits(judge, indices: np.ndarray) -> float:
    """The samples' NLL under the judge (the PixelCNN), bits/px."""
    hw = indices.shape[1] * indices.shape[2]
    return float(judge.nll_nats(indices).mean() / (hw * LN2))


def load_pair(args, test: Stream, tmp: Path) -> tuple:
    if args.quick:
        import keras

        out = []
        for family, config in QUICK_MODELS.items():
            keras.utils.set_random_seed(0)
            model = models.get(family)(test.size[0], test.size[1], test.palette, **config)
            model.build_for_data()
            out.append(models.load(str(models.save(model, tmp / f"{family}.keras", optimizer=False))))
        return tuple(out)
    return models.load(args.pixelcnn), models.load(args.masked)


def markdown(meta: dict, completion: list[dict], speed: list[dict], nll: dict) -> str:
    lines = ["# Masked diffusion vs PixelCNN: completion, sampling speed, test NLL", "", *meta_lines(meta),
             f"- data: {meta['sprites']} test sprites of the course's Pokemon crops (20x20, 167 colours)", "",
             f"## Completion ({meta['settings']['k']} completions per sprite, seed 0; masked model: "
             f"{meta['settings']['steps']} steps, random order)", "",
             "| mask | model | hidden pixels right (mean of draws) | CIEDE2000, best of draws | time (s) |",
             "|---|---|---:|---:|---:|"]
    for row in completion:
        lines.append(f"| {row['mask']} | {row['model']} | {100 * row['right']:.1f}% | {fmt(row['best_ciede2000'])} | {row['seconds']} |")
    lines += ["", f"## Sampling speed (batch {meta['settings']['batch']}, seed 0, temperature 1; best of "
              f"{meta['settings']['repeat']})", "",
              "| model | steps | sprites/s | samples' NLL under the PixelCNN (bits/px) |", "|---|---:|---:|---:|"]
    for row in speed:
        lines.append(f"| {row['model']} | {row['steps']} | {row['rate']:.1f} | {fmt(row['judged_bits'], 3)} |")
    lines += ["", "## Test NLL (bits/px)", "",
              f"- masked: <= {nll['masked']['bits_per_pixel']:.4f} (ELBO bound, ± {nll['masked']['stderr_bits_per_pixel']:.4f} "
              f"s.e., {nll['masked']['k']} masking rates per sprite, seed 0)",
              f"- pixelcnn: {nll['pixelcnn']['bits_per_pixel']:.4f} (exact)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--masked", default="masked", help="the masked model: .keras file, run folder or zoo name [masked]")
    ap.add_argument("--pixelcnn", default="pixelcnn", help="the PixelCNN: .keras file, run folder or zoo name [pixelcnn]")
    ap.add_argument("--out", type=Path, default=None, help="folder for masked.md/.json (default bench/results; --quick: none)")
    ap.add_argument("--steps", type=int, default=None, help=f"the masked model's completion steps [{FULL['steps']}]")
    ap.add_argument("--sweep", default=None, help=f"steps timed, comma-separated [{','.join(map(str, FULL['sweep']))}]")
    ap.add_argument("--quick", action="store_true", help="debugging: tiny untrained stand-ins, 8 sprites, small sizes")
    args = ap.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    if args.steps is not None:
        settings["steps"] = args.steps
    if args.sweep:
        settings["sweep"] = tuple(int(v) for v in args.sweep.split(","))
    run = Run(__file__, argv)
    test = datasets.load("pokemon", split="test")
    if settings["sprites"]:
        test = test.select(slice(0, settings["sprites"]))

    with tempfile.TemporaryDirectory(prefix="genkit-bench-masked-") as tmp:
        cnn, masked = load_pair(args, test, Path(tmp))
        completion = []
        for name, mask in masks(*test.size).items():
            for label, model, extra in (("pixelcnn", cnn, {}), ("masked", masked, {"steps": settings["steps"]})):
                log(f"completion: {name}, {label}")
                completion.append({"mask": name, "model": label, **completion_scores(model, test, mask, settings["k"], extra)})

        speed = []
        n = settings["batch"]
        cnn.generate(1, seed=0)  # warm-up at two batch sizes: tracing is not timed
        cnn.generate(2, seed=0)
        drawn, seconds = best_time(lambda: cnn.generate(n, seed=0, batch_size=n), settings["repeat"])
        speed.append({"model": "pixelcnn (cached)", "steps": cnn.height * cnn.width, "rate": n / seconds,
                      "judged_bits": judged_bits(cnn, drawn)})
        masked.generate(1, steps=1, seed=0)
        masked.generate(2, steps=1, seed=0)
        for steps in settings["sweep"]:
            log(f"sampling: masked, {steps} steps")
            drawn, seconds = best_time(lambda: masked.generate(n, steps=steps, seed=0, batch_size=n), settings["repeat"])
            speed.append({"model": "masked", "steps": steps, "rate": n / seconds, "judged_bits": judged_bits(cnn, drawn)})

        log("test NLL")
        nll = {"masked": dict(masked.evaluate_stream(test, k=settings["elbo_k"], seed=0)),
               "pixelcnn": dict(cnn.evaluate_stream(test))}
        sources = {"masked": shown(masked.checkpoint_path), "pixelcnn": shown(cnn.checkpoint_path)}

    meta = run.meta(sprites=len(test), settings={**settings, "sweep": list(settings["sweep"])}, models=sources)
    text = markdown(meta, completion, speed, nll)
    out_dir = out_folder(args.out, args.quick)
    publish(out_dir, "masked", text, dict(meta=meta, completion=completion, sampling=speed, nll=nll), log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
