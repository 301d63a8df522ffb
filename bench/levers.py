"""Benchmark: likelihood levers that need no more training -- averaging pixel models' predictions.

Issue 17 asks for test NLL <= 2.2 bits/px on the 81 test sprites and lists "averaging the
predictions of several checkpoints" among the levers. Every row here is a valid model of the
test sprites (each pixel's distribution sums to one given the pixels before it), chosen on the
**val** split only; the test split is scored once per row:

* each model alone (default: the shipped ``pokemon-pixelcnn`` and ``pokemon-pixelrnn``);
* each model with its logits divided by a temperature T picked on val (calibration);
* a **per-pixel mixture**: p(x_t | x_<t) = sum_m w_m p_m(x_t | x_<t), all models in raster order,
  the weights fitted on val by EM (still an autoregressive model, so the product is a
  likelihood); the first two models, then all of them when more are given;
* each mixture **averaged with its mirror**: ½ p_mix(x) + ½ p_mix(flip x), an image-level mixture
  over the horizontal flip (a bijection of the sprites; the models trained with flips).

Results go to ``<out>/pixel-levers.md`` and ``.json``; ``bench/results/pixel.md`` (``bench/pixel.py``)
keeps the trained rows.

    python bench/levers.py [MODEL ...] [--out bench/results]
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


def with_mirror(lp: np.ndarray, lp_flipped: np.ndarray) -> float:
    """Bits/px of ½ p(x) + ½ p(flip x), from each image's per-pixel log-probs both ways."""
    per_image = np.logaddexp(np.log(0.5) + lp.sum((1, 2)), np.log(0.5) + lp_flipped.sum((1, 2)))
    return float(-per_image.sum() / lp.size / np.log(2))


def mixture_weights(lps: list[np.ndarray], iters: int = 200) -> np.ndarray:
    """Per-pixel mixture weights over models that maximise the likelihood of ``lps`` (each model's
    per-pixel log p, same shape), by EM: each weight becomes its mean responsibility."""
    stack = np.stack([lp.ravel() for lp in lps])
    w = np.full(len(lps), 1.0 / len(lps))
    for _ in range(iters):
        joint = np.log(w)[:, None] + stack
        resp = np.exp(joint - np.logaddexp.reduce(joint, axis=0))
        w = resp.mean(axis=1)
    return w


def mix(lps: list[np.ndarray], w: np.ndarray) -> np.ndarray:
    """Per-pixel log of sum_m w_m p_m."""
    return np.logaddexp.reduce(np.stack([np.log(wm) + lp for wm, lp in zip(w, lps)]), axis=0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help="pixel models (checkpoints, run folders or zoo names); default: "
                    "the shipped pokemon-pixelcnn and pokemon-pixelrnn")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = ap.parse_args(argv)
    run = Run(__file__, argv)
    specs = args.models or ["pokemon-pixelcnn", "pokemon-pixelrnn"]
    data = {s: datasets.load("pokemon", s).indices for s in ("val", "test")}
    lp, lp_t, temps, names = {}, {}, {}, []  # (split, model, flipped) -> per-pixel log p (at T = 1, at the val T)
    for spec in specs:
        model = models.load(spec)
        path = Path(getattr(model, "checkpoint_path", None) or spec)
        name = path.parent.name if path.stem in ("model", "last") else path.stem  # a run folder: its name
        names.append(name)
        seen = {(s, f): data[s][:, :, ::-1] if f else data[s] for s in data for f in (False, True)}
        z = {key: logits(model, x) for key, x in seen.items()}
        val = [bits(log_probs(z["val", False], data["val"], t)) for t in TEMPERATURES]
        temps[name] = float(TEMPERATURES[int(np.argmin(val))])
        for (s, f), zz in z.items():
            lp[s, name, f] = log_probs(zz, seen[s, f])
            lp_t[s, name, f] = log_probs(zz, seen[s, f], temps[name])
        log(f"{name}: scored; temperature on val {temps[name]}")

    rows = []

    def row(lever: str, val: float, test: float, chosen: str):
        rows.append({"lever": lever, "val_bits": round(val, 4), "test_bits": round(test, 4), "chosen_on_val": chosen})

    for name in names:
        row(f"{name} alone", bits(lp["val", name, False]), bits(lp["test", name, False]), "—")
        row(f"{name}, temperature", bits(lp_t["val", name, False]), bits(lp_t["test", name, False]), f"T = {temps[name]}")
    groups = [names] if len(names) <= 2 else [names[:2], names]
    for group in groups:
        w = mixture_weights([lp["val", n, False] for n in group])
        both = {(s, f): mix([lp[s, n, f] for n in group], w) for s in data for f in (False, True)}
        label = " + ".join(group)
        chosen = ", ".join(f"{n} {x:.2f}" for n, x in zip(group, w))
        row(f"per-pixel mixture of {label}", bits(both["val", False]), bits(both["test", False]), f"weights {chosen}")
        row(f"per-pixel mixture of {label}, averaged with its mirror", with_mirror(both["val", False], both["val", True]),
            with_mirror(both["test", False], both["test", True]), f"weights {chosen}")
    best = min(rows, key=lambda r: r["val_bits"])
    meta = run.meta(models=names)
    verdict = "met" if best["test_bits"] <= TARGET else "not met"
    lines = ["# Likelihood levers without training: averaging pixel models (bench/levers.py)", "",
             *meta_lines(meta), "",
             f"Data: the course's Pokemon crops, val {len(data['val'])} sprites (every choice below: temperatures, "
             f"mixture weights by EM), test {len(data['test'])} sprites (scored once per row). Bits per pixel; lower is better.", "",
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
