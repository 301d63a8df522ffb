"""Benchmark: likelihood levers that need no training -- averaging the shipped pixel models' predictions.

Issue 17 asks for test NLL <= 2.2 bits/px on the 81 test sprites and lists "averaging the
predictions of several checkpoints" among the levers. Every row here is a valid model of the
test sprites (each pixel's distribution sums to one given the pixels before it), chosen on the
**val** split only; the test split is scored once per row:

* each shipped model alone (``pokemon-pixelcnn``, ``pokemon-pixelrnn``);
* each model with its logits divided by a temperature T picked on val (calibration);
* a **per-pixel mixture**: p(x_t | x_<t) = w p_cnn + (1 - w) p_rnn, both models in raster order,
  w picked on val from a grid (still an autoregressive model, so the product is a likelihood);
* the mixture **averaged with its mirror**: ½ p_mix(x) + ½ p_mix(flip x), an image-level mixture
  over the horizontal flip (a bijection of the sprites; both models trained with flips).

Results go to ``<out>/pixel-levers.md`` and ``.json``; ``bench/results/pixel.md`` (``bench/pixel.py``)
keeps the trained rows.

    python bench/levers.py [--checkpoints DIR] [--out bench/results]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/levers.py` works without PYTHONPATH

from bench.common import Run, logger, meta_lines, write_report  # noqa: E402
from genkit import datasets, models  # noqa: E402

TARGET, STRETCH = 2.2, 2.0  # issue 17: test NLL in bits/px
TEMPERATURES = np.round(np.arange(0.8, 1.301, 0.05), 2)
WEIGHTS = np.round(np.arange(0.05, 0.951, 0.05), 2)
log = logger("levers")


def logits(model, indices: np.ndarray, batch: int = 64) -> np.ndarray:
    """The model's logits (N, H, W, K) of every pixel given the pixels before it, float64."""
    return np.concatenate([np.asarray(model.forward(np.asarray(indices[i : i + batch], np.int32)), np.float64)
                           for i in range(0, len(indices), batch)])


def log_probs(z: np.ndarray, indices: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """log p of each pixel's colour (N, H, W), nats, from logits divided by ``temperature``."""
    z = z / temperature
    z = z - z.max(-1, keepdims=True)
    return np.take_along_axis(z, indices[..., None].astype(np.intp), -1)[..., 0] - np.log(np.exp(z).sum(-1))


def bits(lp: np.ndarray) -> float:
    """Mean bits per pixel of per-pixel log-probabilities (nats)."""
    return float(-lp.mean() / np.log(2))


def mixture(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """Per-pixel log of w p_a + (1 - w) p_b."""
    return np.logaddexp(np.log(w) + a, np.log1p(-w) + b)


def with_mirror(lp: np.ndarray, lp_flipped: np.ndarray) -> float:
    """Bits/px of ½ p(x) + ½ p(flip x), from each image's per-pixel log-probs both ways."""
    per_image = np.logaddexp(np.log(0.5) + lp.sum((1, 2)), np.log(0.5) + lp_flipped.sum((1, 2)))
    return float(-per_image.sum() / lp.size / np.log(2))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoints", type=Path, default=models.CHECKPOINT_DIR)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = ap.parse_args(argv)
    run = Run(__file__, argv)
    data = {s: datasets.load("pokemon", s).indices for s in ("val", "test")}
    names = {"cnn": "pokemon-pixelcnn", "rnn": "pokemon-pixelrnn"}
    lp, lp_t = {}, {}  # (split, model, flipped) -> per-pixel log p at T = 1, at the val-picked T
    temps = {}
    for key, name in names.items():
        model = models.load(str(args.checkpoints / f"{name}.keras"))
        z = {(s, f): logits(model, data[s][:, :, ::-1] if f else data[s]) for s in data for f in (False, True)}
        seen = {(s, f): data[s][:, :, ::-1] if f else data[s] for s in data for f in (False, True)}
        val = [bits(log_probs(z["val", False], data["val"], t)) for t in TEMPERATURES]
        temps[key] = float(TEMPERATURES[int(np.argmin(val))])
        for (s, f), zz in z.items():
            lp[s, key, f] = log_probs(zz, seen[s, f])
            lp_t[s, key, f] = log_probs(zz, seen[s, f], temps[key])
        log(f"{name}: scored; temperature on val {temps[key]}")

    rows = []

    def row(lever: str, val: float, test: float, chosen: str):
        rows.append({"lever": lever, "val_bits": round(val, 4), "test_bits": round(test, 4), "chosen_on_val": chosen})

    for key, name in names.items():
        row(f"{name} alone", bits(lp["val", key, False]), bits(lp["test", key, False]), "—")
        row(f"{name}, temperature", bits(lp_t["val", key, False]), bits(lp_t["test", key, False]), f"T = {temps[key]}")
    for label, table in (("", lp), (", both at their temperatures", lp_t)):
        val = [bits(mixture(table["val", "cnn", False], table["val", "rnn", False], w)) for w in WEIGHTS]
        w = float(WEIGHTS[int(np.argmin(val))])
        mix = {(s, f): mixture(table[s, "cnn", f], table[s, "rnn", f], w) for s in data for f in (False, True)}
        row(f"per-pixel mixture of the two{label}", min(val), bits(mix["test", False]), f"w_cnn = {w}")
        row(f"per-pixel mixture{label}, averaged with its mirror", with_mirror(mix["val", False], mix["val", True]),
            with_mirror(mix["test", False], mix["test", True]), f"w_cnn = {w}")
    best = min(rows, key=lambda r: r["val_bits"])
    meta = run.meta()
    verdict = "met" if best["test_bits"] <= TARGET else "not met"
    lines = ["# Likelihood levers without training: averaging the shipped pixel models (bench/levers.py)", "",
             *meta_lines(meta), "",
             f"Data: the course's Pokemon crops, val {len(data['val'])} sprites (every choice below), "
             f"test {len(data['test'])} sprites (scored once per row). Bits per pixel; lower is better.", "",
             "| lever | val bits/px | test bits/px | chosen on val |", "|---|---:|---:|---|",
             *[f"| {r['lever']} | {r['val_bits']:.4f} | {r['test_bits']:.4f} | {r['chosen_on_val']} |" for r in rows],
             "", "## Target", "",
             f"- Best row by val: {best['lever']}, test {best['test_bits']:.4f} bits/px; target <= {TARGET} -> "
             f"**{verdict}** (stretch {STRETCH}: {'met' if best['test_bits'] <= STRETCH else 'not met'})", ""]
    text = "\n".join(lines)
    write_report(args.out, "pixel-levers", text, {"meta": meta, "rows": rows, "best": best, "target": TARGET,
                                                  "verdict": verdict}, log)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
