"""Benchmark: VAE likelihoods -- binarized MNIST test NLL in nats, Pokemon test bits/px.

1. **MNIST** (the official 60k/10k split; test digits binarized once with seed 0, each pixel
   on with its grey level as probability -- the same dynamic-binarization protocol as training):
   the shipped ``mnist-vae`` checkpoint's importance-sampled test log-likelihood (the IWAE bound
   with ``-k`` samples, default 5000, Burda et al. 2016), its negative ELBO, KL and active units,
   next to the published numbers (Burda et al. 2016, Table 1, one stochastic layer trained as a
   VAE, k = 1: 86.76; as an IWAE with k = 50: 84.78; two stochastic layers, IWAE k = 50: 82.90).
   ``--images N`` scores the first N test digits only (a fixed subset; the report says so).
2. **Pokemon** (the course's 20x20 crops on its 167-colour palette, genkit's fixed split, 81
   test sprites): the shipped ``pokemon-vae``'s test bits/px (IWAE, same k) beside the pixel
   models' rows from ``bench/results/pixel.json`` (measured by ``make bench-pixel``).

Training times come from each checkpoint's run (``runs/NAME/metrics.json``) when present.
Results go to ``<out>/vae.md`` and ``<out>/vae.json`` (written atomically).

    python bench/vae.py [-k 5000] [--images N] [--checkpoints DIR] [--out bench/results]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/vae.py` works without PYTHONPATH

from bench.common import RESULTS, ROOT, Run, fmt_load, training, verdict, write_report  # noqa: E402
from genkit import datasets, models  # noqa: E402

PUBLISHED = [  # Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", Table 1 (MNIST, nats)
    ("Burda et al.: VAE, 1 stochastic layer (k=1)", 86.76),
    ("Burda et al.: IWAE, 1 stochastic layer, k=50", 84.78),
    ("Burda et al.: IWAE, 2 stochastic layers, k=50", 82.90),
]
TARGET, STRETCH = 85.0, 83.0


def evaluate(path: Path, dataset: str, k: int, images: int | None):
    model = models.load(str(path))
    test = datasets.load(dataset, split="test")
    if images:
        test = test.select(slice(0, images))
    t0 = time.time()
    result = model.evaluate_stream(test, k=k, seed=0)
    result["eval_s"] = round(time.time() - t0, 1)
    result["params"] = int(model.count_params())
    return result


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", type=int, default=5000)
    ap.add_argument("--images", type=int, default=None, help="score only the first N MNIST test digits")
    ap.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    run = Run(__file__, argv)
    out: dict = {"meta": {}}  # filled at the end
    mnist_ckpt = args.checkpoints / "mnist-vae.keras"
    mnist = None
    if mnist_ckpt.is_file():
        print(f"MNIST: IWAE k={args.k} on {'all' if not args.images else args.images} test digits ...", file=sys.stderr)
        mnist = evaluate(mnist_ckpt, "mnist", args.k, args.images)
        m = training(ROOT / "runs" / "mnist-vae")
        mnist["train_time_s"] = m.get("train_time_s")
        mnist["epochs"] = m.get("epochs")
        mnist["settings"] = m.get("run", {}).get("model")
    out["mnist"] = mnist
    out["published"] = [{"model": name, "nll_nats": v} for name, v in PUBLISHED]
    pokemon_ckpt = args.checkpoints / "pokemon-vae.keras"
    pokemon = None
    if pokemon_ckpt.is_file():
        print(f"Pokemon: IWAE k={args.k} on the 81 test sprites ...", file=sys.stderr)
        pokemon = evaluate(pokemon_ckpt, "pokemon", args.k, None)
        m = training(ROOT / "runs" / "pokemon-vae")
        pokemon["train_time_s"] = m.get("train_time_s")
        pokemon["settings"] = m.get("run", {}).get("model")
    out["pokemon"] = pokemon
    pixel_path = args.out / "pixel.json"
    out["pixel_rows"] = []
    if pixel_path.is_file():
        for r in json.loads(pixel_path.read_text()).get("nll", []):
            out["pixel_rows"].append({"model": r["model"], "bits_per_pixel": r["bits_per_pixel"]})
    import keras
    import tensorflow as tf

    meta = out["meta"] = run.meta(k=args.k, images=args.images)
    if mnist:
        out["target"] = {"nll_nats": TARGET, "stretch": STRETCH, "met": mnist["nll_nats"] <= TARGET,
                         "stretch_met": mnist["nll_nats"] <= STRETCH}

    md = ["# VAE benchmark", "",
          f"`{meta['command']}` on {meta['machine']}, {meta['date']}; TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}. Load average {fmt_load(meta['load_average']['start'])} at the start, "
          f"{fmt_load(meta['load_average']['end'])} at the end (other jobs shared the 2 cores).", ""]
    md += ["## Binarized MNIST, test NLL (nats per digit; lower is better)", "",
           "| model | test NLL | −ELBO | KL | active units | params | training |", "|---|---:|---:|---:|---:|---:|---|"]
    if mnist:
        subset = f" (first {mnist['images']} test digits)" if args.images else f" ({mnist['images']} test digits)"
        train = f"{mnist['train_time_s'] / 60:.0f} min, {mnist['epochs']} epochs" if mnist.get("train_time_s") else "—"
        md.append(f"| **genkit `mnist-vae`**, IWAE k={mnist['k']}{subset} | **{mnist['nll_nats']:.2f}** | {mnist['nelbo_nats']:.2f} | "
                  f"{mnist['kl_nats']:.2f} | {mnist['active_units']}/{mnist['latent']} | {mnist['params']:,} | {train} |")
    else:
        md.append("| genkit `mnist-vae` | not found: run `make checkpoints` | | | | | |")
    for name, v in PUBLISHED:
        md.append(f"| {name} | {v:.2f} | | | | | published |")
    if mnist:
        md += ["", f"Target ≤ {TARGET:.0f} nats (stretch {STRETCH:.0f}): {verdict(mnist['nll_nats'] <= TARGET)} — measured {mnist['nll_nats']:.2f}. "
               f"Settings {json.dumps(mnist.get('settings'), sort_keys=True)}; the evaluation took {mnist['eval_s'] / 60:.1f} min."]
    md += ["", "## Pokemon (course crops, 167 colours), test bits per pixel (lower is better)", "",
           "| model | test bits/px | note |", "|---|---:|---|"]
    if pokemon:
        md.append(f"| **genkit `pokemon-vae`** (IWAE k={pokemon['k']}) | **{pokemon['bits_per_pixel']:.3f}** | −ELBO "
                  f"{pokemon['nelbo_nats'] / (400 * 0.6931471805599453):.3f} bits/px, KL {pokemon['kl_nats']:.1f} nats, "
                  f"{pokemon['active_units']}/{pokemon['latent']} active units |")
    for r in out["pixel_rows"]:
        md.append(f"| {r['model']} | {r['bits_per_pixel']:.3f} | from bench/results/pixel.json |")
    scored = [r["bits_per_pixel"] for r in out["pixel_rows"]]
    if pokemon and len(scored) > 1:
        where = ("between the unigram's and the pixel models'" if scored[0] > pokemon["bits_per_pixel"] > max(scored[1:])
                 else "not between the unigram's and the pixel models'")
        md += ["", "A VAE's decoder draws every pixel independently given the code, so it cannot model the pixel-to-pixel "
               f"detail the autoregressive models capture; measured here, its bits/px are {where}."]
    md.append("")
    write_report(args.out, "vae", "\n".join(md), out)
    print("\n".join(md))


if __name__ == "__main__":
    main()
