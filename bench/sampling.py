"""Benchmark: pixel sampling speed against the machine's limit, without the likelihood tables.

``bench/pixel.py`` measures everything about the pixel models, including a course LSTM it trains
when ``runs/bench-course-lstm`` is missing (about 40 minutes). This script measures only the
sampling rows, with the same functions (``bench.pixel.sample_row``, ``matmul_flops``,
``add_limits``), for the shipped checkpoints:

* compiled sampling (one XLA program a batch: the raster loop with the caches in its state),
  sprites/s at batch 64 and at batch 4, best of ``--repeat`` after a warm-up;
* naive sampling (the whole model re-run for every pixel) at batch 4, and whether the two draw
  identical images for seed 0;
* the machine limit: float32 matmul FLOP/s measured in the same run, divided by the model's
  FLOPs per sprite (2 x weights x 400 pixels).

Results go to ``<out>/sampling.md`` and ``sampling.json``.

    python bench/sampling.py [--checkpoints DIR] [--out bench/results] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/sampling.py` works without PYTHONPATH

from bench.common import Run, meta_lines, write_report  # noqa: E402
from bench.pixel import FULL, add_limits, log, matmul_flops, sample_row, shipped_models  # noqa: E402
from genkit import models  # noqa: E402

TARGET_FRACTION = 0.5  # issue 17: batch 64 at >= 50% of the limit (stretch 70%)
TARGET_SMALL = 3.0  # issue 17: batch 4 >= 3x the rate before the compiled loop
BEFORE_SMALL = {"pixelrnn": 7.8, "pixelcnn": 11.3}  # sprites/s at batch 4 before the compiled loop (issue 17)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoints", type=Path, default=models.CHECKPOINT_DIR)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    run = Run(__file__, argv)
    rows = []
    for name, model, source in shipped_models(args.checkpoints):
        if model is None:
            log(source)
            continue
        rows.append(sample_row(name, model, FULL["n_cached"], FULL["n_naive"], args.repeat, FULL["eager_calls"]))
    mm = matmul_flops(FULL["sizes"], FULL["trials"])
    flops = max(m["gflops"] for m in mm) * 1e9
    add_limits(rows, flops, 400)
    lines = ["# Pixel sampling against the machine's limit (bench/sampling.py)", ""]
    meta = run.meta(matmul_gflops=flops / 1e9)
    lines += meta_lines(meta)
    lines += ["", f"Machine limit: float32 matmul {flops / 1e9:.1f} GFLOP/s (best of TensorFlow and numpy, "
              f"{', '.join(str(s) for s in FULL['sizes'])}², best of {FULL['trials']}), this run.", "",
              "| model | weights | batch 64: sprites/s | limit: sprites/s | of the limit | batch 4: sprites/s | "
              "batch 4 before | x before | naive batch 4: sprites/s | compiled = naive |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    checks = []
    for r in rows:
        key = "pixelrnn" if "rnn" in r.model else "pixelcnn"
        before = BEFORE_SMALL[key]
        lines.append(f"| {r.model} | {r.weights:,} | {r.cached_rate:.1f} | {r.limit_rate:.1f} | {100 * r.fraction_of_limit:.0f}% | "
                     f"{r.cached_small_rate:.1f} | {before} | {r.cached_small_rate / before:.1f}x | {r.naive_rate:.2f} | "
                     f"{'yes' if r.identical else f'no ({r.differing_pixels} pixels)'} |")
        checks.append(f"{r.model}: batch 64 at >= {100 * TARGET_FRACTION:.0f}% of the limit: "
                      f"{'met' if r.fraction_of_limit >= TARGET_FRACTION else 'not met'} ({100 * r.fraction_of_limit:.0f}%); "
                      f"batch 4 >= {TARGET_SMALL:g}x before: {'met' if r.cached_small_rate >= TARGET_SMALL * before else 'not met'} "
                      f"({r.cached_small_rate / before:.1f}x)")
    lines += ["", "## Targets", "", *[f"- {c}" for c in checks], ""]
    text = "\n".join(lines)
    write_report(args.out, "sampling", text, {"meta": meta, "matmul": mm, "rows": [dataclasses.asdict(r) for r in rows],
                                              "targets": checks}, log)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
