"""Benchmark: VAE likelihoods -- binarized MNIST test NLL in nats, Pokemon test bits/px.

1. **MNIST** (the official 60k/10k split; test digits binarized once with seed 0, each pixel
   on with its grey level as probability -- the same dynamic-binarization protocol as training):
   the shipped ``mnist-vae`` checkpoint's importance-sampled test log-likelihood (the IWAE bound
   with ``-k`` samples, Burda et al. 2016; default 1000 on all 10,000 test digits, issue 18's
   protocol), its negative ELBO, KL and active units, next to the published numbers (Burda et
   al. 2016, Table 1, one stochastic layer trained as a VAE, k = 1: 86.76; as an IWAE with k = 50: 84.78; two stochastic layers, IWAE k = 50: 82.90).
   ``--images N`` scores the first N test digits only (a fixed subset; the report says so).
2. **Pokemon** (the course's 20x20 crops on its 167-colour palette, genkit's fixed split, 81
   test sprites): the shipped ``pokemon-vae``'s test bits/px (IWAE, same k) beside the pixel
   models' rows from ``bench/results/pixel.json`` (measured by ``make bench-pixel``).

3. **Pokemon pictures in colour** (``--decode``): for each way the palette decoder's
   distribution becomes a picture (greedy, mean, sample; and the plain Lab mean as an ablation),
   the share of foreground pixels (Lab L < 95) with Lab chroma > 20 on the grid of
   ``gk-sample pokemon-vae --grid 0,1 --steps 10``, and the fidelity: the mean CIEDE2000 over all
   pixels between the 81 test sprites and their reconstructions (encoder mean, decoded).
   ``--only colour`` measures this part alone (seconds) and keeps the other rows of the report.

Training times come from each checkpoint's run (``runs/NAME/metrics.json``) when present.
Results go to ``<out>/vae.md`` and ``<out>/vae.json`` (written atomically).

    python bench/vae.py [-k 1000] [--images N] [--only likelihood|colour] [--checkpoints DIR] [--out bench/results]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/vae.py` works without PYTHONPATH

from bench.common import RESULTS, ROOT, Run, fmt_load, training, verdict, write_report  # noqa: E402
from genkit import datasets, models  # noqa: E402
from genkit.color import ciede2000, srgb_to_lab  # noqa: E402

PUBLISHED = [  # Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", Table 1 (MNIST, nats)
    ("Burda et al.: VAE, 1 stochastic layer (k=1)", 86.76),
    ("Burda et al.: IWAE, 1 stochastic layer, k=50", 84.78),
    ("Burda et al.: IWAE, 2 stochastic layers, k=50", 82.90),
]
TARGET, STRETCH = 85.0, 83.0
COLOUR_TARGET = 0.30  # issue 18: share of coloured foreground pixels on the grid
FOREGROUND_L, COLOURED_CHROMA = 95.0, 20.0  # foreground: Lab L below this; coloured: Lab chroma above this


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


def coloured_share(stream) -> tuple[float, float]:
    """(share of the foreground pixels, Lab L < FOREGROUND_L, whose Lab chroma exceeds
    COLOURED_CHROMA; share of all pixels that are foreground) of a palette-coded stream."""
    lab = srgb_to_lab(stream.palette)[stream.indices]
    fg = lab[..., 0] < FOREGROUND_L
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    return float((chroma[fg] > COLOURED_CHROMA).mean()) if fg.any() else 0.0, float(fg.mean())


def fidelity(original, decoded) -> float:
    """Mean CIEDE2000 over all pixels between two palette-coded streams of the same images."""
    return float(ciede2000(srgb_to_lab(original.rgb()), srgb_to_lab(decoded.rgb())).mean())


def colour(path: Path, dims=(0, 1), steps: int = 10) -> dict:
    """Section 3: per decoding, the grid's coloured share (``gk-sample PATH --grid I,J --steps N
    --decode D``: range -3:3, other dimensions 0, seed 0) and the test sprites' reconstruction
    fidelity; the plain-Lab-mean ablation; the real sprites' shares."""
    import tensorflow as tf

    from genkit.io import Stream
    from genkit.models.vae import decoding

    net = models.load(str(path))
    test = net.as_model_stream(datasets.load("pokemon", split="test"))
    codes = net.encode_stream(test)[0]
    rows = []
    for how in net.decodings:
        share, fg = coloured_share(net.grid_stream(tuple(dims), -3.0, 3.0, steps, decode=how))
        rec = net.decode_codes(codes, decode=how, seed=0)
        rows.append({"decode": how, "grid_coloured": share, "grid_foreground": fg, "rec_ciede2000": fidelity(test, rec),
                     "rec_coloured": coloured_share(rec)[0]})
    # ablation: the expected colour in Lab (hues average towards grey), then the nearest palette colour
    lab = srgb_to_lab(net.palette)

    def lab_mean(z):
        p = decoding.softmax(np.asarray(net.decode(tf.constant(z, tf.float32))))
        return Stream(indices=decoding.nearest(p @ lab.astype(np.float32), lab).astype(np.uint8), palette=net.palette)

    grid = net.grid_codes(tuple(dims), -3.0, 3.0, steps, np.zeros(net.latent, np.float32))
    share, fg = coloured_share(lab_mean(grid))
    rec = lab_mean(codes)
    rows.append({"decode": "mean in Lab (ablation)", "grid_coloured": share, "grid_foreground": fg,
                 "rec_ciede2000": fidelity(test, rec), "rec_coloured": coloured_share(rec)[0]})
    real = {split: coloured_share(net.as_model_stream(datasets.load("pokemon", split=split)))[0] for split in ("all", "test")}
    greedy = next(r for r in rows if r["decode"] == "greedy")
    default = next(r for r in rows if r["decode"] == decoding.DEFAULT)
    return {"checkpoint": str(path.name), "grid": {"dims": list(dims), "range": [-3.0, 3.0], "steps": steps}, "rows": rows,
            "real_coloured": real, "default": decoding.DEFAULT, "target": COLOUR_TARGET,
            "met": default["grid_coloured"] >= COLOUR_TARGET and default["rec_ciede2000"] <= greedy["rec_ciede2000"]}


def colour_md(c: dict) -> list[str]:
    name = c["checkpoint"].removesuffix(".keras")
    i, j = c["grid"]["dims"]
    md = ["", "## Pokemon VAE pictures: `--decode` (higher coloured share, lower CIEDE2000 is better)", "",
          f"`{c['meta']['command']}`, {c['meta']['date']}. Coloured share: of the foreground pixels (Lab L < "
          f"{FOREGROUND_L:.0f}), those with Lab chroma > {COLOURED_CHROMA:.0f}, on the grid of `gk-sample {name} --grid {i},{j} "
          f"--steps {c['grid']['steps']} --decode D`. Fidelity: mean CIEDE2000 over all pixels between the 81 test sprites "
          "and their reconstructions (the encoder's mean, decoded with D; sample: seed 0).", "",
          "| --decode | grid: coloured share | grid: foreground | test reconstructions: mean CIEDE2000 | reconstructions: coloured share |",
          "|---|---:|---:|---:|---:|"]
    for r in c["rows"]:
        label = f"**{r['decode']}** (default)" if r["decode"] == c["default"] else r["decode"]
        md.append(f"| {label} | {100 * r['grid_coloured']:.1f}% | {100 * r['grid_foreground']:.1f}% | {r['rec_ciede2000']:.2f} | "
                  f"{100 * r['rec_coloured']:.1f}% |")
    real = c["real_coloured"]
    md.append(f"| real sprites (all 792; the 81 test sprites) | {100 * real['all']:.1f}%; {100 * real['test']:.1f}% | | 0 | |")
    md += ["", f"Target: default decoding ≥ {100 * c['target']:.0f}% coloured on the grid and no farther from the test sprites "
           f"than greedy (argmax): {verdict(c['met'])}. mean takes each pixel's expected colour in LCh (mean lightness, mean "
           "chroma, the hue of the mean a, b) and then the nearest palette colour; the plain mean in Lab averages "
           "different hues towards grey (the ablation row)."]
    return md


def _load(values) -> str:
    """A load average as the report prints it (older reports stored it as text)."""
    return values if isinstance(values, str) else fmt_load(values)


def render(out: dict) -> str:
    """The report's Markdown from its JSON."""
    import keras
    import tensorflow as tf

    meta = out["meta"]
    md = ["# VAE benchmark", ""]
    if out.get("mnist") is not None or out.get("pokemon") is not None:
        md += [f"`{meta['command']}` on {meta['machine']}, {meta['date']}; TensorFlow {meta.get('tensorflow', tf.__version__)}, "
               f"Keras {meta.get('keras', keras.__version__)}. Load average {_load(meta['load_average']['start'])} at the start, "
               f"{_load(meta['load_average']['end'])} at the end (other jobs shared the 2 cores).", ""]
    mnist, pokemon = out.get("mnist"), out.get("pokemon")
    md += ["## Binarized MNIST, test NLL (nats per digit; lower is better)", "",
           "| model | test NLL | −ELBO | KL | active units | params | training |", "|---|---:|---:|---:|---:|---:|---|"]
    if mnist:
        subset = f" (first {mnist['images']} test digits)" if meta.get("images") else f" ({mnist['images']} test digits)"
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
    for r in out.get("pixel_rows", []):
        md.append(f"| {r['model']} | {r['bits_per_pixel']:.3f} | from bench/results/pixel.json |")
    scored = [r["bits_per_pixel"] for r in out.get("pixel_rows", [])]
    if pokemon and len(scored) > 1:
        where = ("between the unigram's and the pixel models'" if scored[0] > pokemon["bits_per_pixel"] > max(scored[1:])
                 else "not between the unigram's and the pixel models'")
        md += ["", "A VAE's decoder draws every pixel independently given the code, so it cannot model the pixel-to-pixel "
               f"detail the autoregressive models capture; measured here, its bits/px are {where}."]
    if out.get("colour"):
        md += colour_md(out["colour"])
    md.append("")
    return "\n".join(md)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", type=int, default=1000)
    ap.add_argument("--images", type=int, default=None, help="score only the first N MNIST test digits")
    ap.add_argument("--only", choices=("likelihood", "colour"), default=None,
                    help="measure one part; the other's rows are kept from <out>/vae.json")
    ap.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    run = Run(__file__, argv)
    previous = args.out / "vae.json"
    out: dict = json.loads(previous.read_text()) if args.only and previous.is_file() else {"meta": {}}
    if args.only != "colour":
        out.update(likelihood(args))
        out["meta"] = run.meta(k=args.k, images=args.images)
    if args.only != "likelihood":
        pokemon_ckpt = args.checkpoints / "pokemon-vae.keras"
        if pokemon_ckpt.is_file():
            print("Pokemon: --decode colour and fidelity ...", file=sys.stderr)
            out["colour"] = colour(pokemon_ckpt)
            out["colour"]["meta"] = run.meta()
    text = render(out)
    write_report(args.out, "vae", text, out)
    print(text)


def likelihood(args) -> dict:
    """Sections 1 and 2: the MNIST and Pokemon likelihoods, the pixel models' rows."""
    out: dict = {}
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
    if mnist:
        out["target"] = {"nll_nats": TARGET, "stretch": STRETCH, "met": mnist["nll_nats"] <= TARGET,
                         "stretch_met": mnist["nll_nats"] <= STRETCH}
    return out


if __name__ == "__main__":
    main()
