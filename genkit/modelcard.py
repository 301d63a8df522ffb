"""Model cards for shipped checkpoints, written from a run folder's own records.

    python -m genkit.modelcard RUN_DIR checkpoints/NAME.keras --command "make ..."

copies RUN_DIR/model.keras to the checkpoint (atomically, without optimizer state; ``--half``
stores its weights as float16), measures the file as shipped on the test split with the model's
own evaluate_stream, and writes NAME.md beside it: data, split, command, training time, metrics.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from . import datasets, models
from .io import write_file_atomic


DATA = {
    "pokemon": "the course's published 20x20 crops (pixel_color.txt) and its {colors}-colour palette (colormap.txt)",
    "mnist": "MNIST, the official IDX files (60,000 training and 10,000 test digits, 28x28, 256 grey levels); "
             "binarized afresh each epoch for Bernoulli models",
    "ptb": "the Penn Treebank LM text (Mikolov's ptb.{{train,valid,test}}.txt), one sentence a line, words",
    "sonnets": "English sonnet lines (Deep-speare's Gutenberg corpus, lower-cased and tokenised), one verse a line, words",
    "tang": "Tang poem lines (《全唐詩》 via chinese-poetry, traditional script as stored), 5 or 7 characters a line, characters",
}
SPLIT = {
    "pokemon": "genkit's fixed split: fit {fit} images, val {val} (picks the best epoch), test {test} "
               "(Pokedex number divisible by 10; never trained on)",
    "mnist": "the standard split: fit {fit} training digits, val {val} (training digits whose index ends in 5; picks "
             "the best epoch), test {test} (the official test set; never trained on)",
    "ptb": "the standard split: fit {fit} sentences (train), val {val} (valid; picks the best epoch), test {test} (never trained on)",
    "sonnets": "the corpus's own split: fit {fit} lines (train), val {val} (valid; picks the best epoch), test {test} (never trained on)",
    "tang": "by poem, in file order: fit {fit} lines, val {val} (poems k % 10 == 5; picks the best epoch), test {test} "
            "(poems k % 10 == 0; never trained on)",
}


def write_card(run_dir: Path, checkpoint: Path, command: str, dataset: str = "pokemon", k: int | None = None,
               half: bool = False) -> str:
    """Ship RUN_DIR/model.keras as ``checkpoint`` (float16 weights with ``half``), measure the
    file as shipped on the test split and write the card beside it; returns the card's text."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    models.save(models.load(str(run_dir / "model.keras")), checkpoint, optimizer=False, half=half)
    model = models.load(str(checkpoint))  # the card measures what ships
    task = model.task
    sampled = task in ("latent", "text")  # an importance-sampled bound: -k matters
    t0 = time.time()
    test = model.evaluate_stream(datasets.load(dataset, split="test"), **({"k": k} if sampled and k else {}))
    eval_s = time.time() - t0
    extra, rows, history = {"pixel": _pixel_rows, "latent": _latent_rows, "text": _text_rows}.get(task, _judged_rows)(
        model, metrics, test, dataset)
    run = metrics["run"]
    flip = "" if task == "text" else f"flip {run['flip']}, "
    how = f"-k {test['k']}" if sampled and "k" in test else "--split test"
    lines = [
        f"# {checkpoint.name}",
        "",
        f"A `{metrics['family']}` model ({models.FAMILIES[metrics['family']][1]}), trained by genkit's own loop.",
        "",
        "| | |",
        "|---|---|",
        f"| data | `--dataset {dataset}`: {DATA[dataset].format(colors=metrics.get('colors'))} |",
        f"| split | {SPLIT[dataset].format(fit=metrics['train_images'], val=metrics['val_images'], test=test.get('images', test.get('sentences')))} |",
        f"| command | `{command}` |",
        f"| settings | {json.dumps(run['model'], sort_keys=True)}; {extra}batch {run['batch_size']}, lr {run['lr']}, seed {run['seed']}, "
        f"{flip}{run['epochs']} epochs |",
        f"| parameters | {metrics['params']:,} ({checkpoint.stat().st_size / 1e6:.1f} MB file"
        + (", weights stored as float16" if half else "") + ") |",
        f"| training time | {metrics['train_time_s'] / 60:.1f} min (wall) on {platform.processor() or platform.machine()} "
        f"({_cpus()} CPU cores), TensorFlow CPU |",
        *rows,
        f"| measured | {time.strftime('%Y-%m-%d')} with `gk-eval {checkpoint} --dataset {dataset} {how}` ({eval_s / 60:.1f} min) |",
        "",
        history,
        "",
    ]
    text = "\n".join(lines)
    write_file_atomic(checkpoint.with_suffix(".md"), text.encode())
    return text


def _pixel_rows(model, metrics, test, dataset):
    """Pixel models: exact test and val NLL in bits per pixel."""
    val = model.evaluate_stream(datasets.load(dataset, split="val"))
    rows = [
        f"| best epoch | {metrics['best_epoch']} of {len(metrics['epochs'])} |",
        f"| **test NLL** | **{test['bits_per_pixel']:.4f} bits/px** ({test['nats_per_image']:.1f} nats/image) |",
        f"| val NLL | {val['bits_per_pixel']:.4f} bits/px |",
    ]
    history = "Per epoch (bits/px): " + ", ".join(
        f"{r['epoch']}: {r['train_bits_per_pixel']:.3f}/{r['val_bits_per_pixel']:.3f}" for r in metrics["epochs"]) + " (train/val)"
    return "", rows, history


def _latent_rows(model, metrics, test, dataset):
    """VAE-family models: IWAE log-likelihood, ELBO, KL and active units (an AE: reconstruction)."""
    rows = [f"| best epoch | {metrics['best_epoch']} of {len(metrics['epochs'])} (by validation loss) |"]
    if "nll_nats" in test:
        rows += [
            f"| **test NLL** | **{test['nll_nats']:.2f} nats/image** (IWAE bound, k = {test['k']}; {test['bits_per_pixel']:.4f} bits/px)"
            + (" — conditional on the label, −log p(x | y)" if getattr(model, "conditional", False) else "") + " |",
            f"| test −ELBO | {test['nelbo_nats']:.2f} nats/image (reconstruction {test['rec_nats']:.2f} + KL {test['kl_nats']:.2f}) |",
            f"| active units | {test['active_units']} of {test['latent']} (Cov_x E_q[z_u] > 0.01) |",
            f"| KL per code dimension | {', '.join(f'{v:.2f}' for v in test['kl_per_dim'])} |",
        ]
    else:
        rows += [f"| test reconstruction | {test['rec_nats']:.2f} nats/image ({test['bits_per_pixel']:.4f} bits/px; an AE has no likelihood) |"]
    history = "Per epoch (every 10th, and the best), −ELBO in nats/image (train/val): " + ", ".join(
        f"{r['epoch']}: {r.get('train_nelbo', r['train_loss']):.1f}/{r.get('val_nelbo', r['val_loss']):.1f}"
        for r in metrics["epochs"] if r["epoch"] % 10 == 0 or r["epoch"] in (1, metrics["best_epoch"]))
    return f"decoder likelihood {model.likelihood}; ", rows, history


def _judged_rows(model, metrics, test, dataset):
    """Models without a likelihood: a classifier's test accuracy, or a GAN's realness on test
    (squared Fréchet distance in the shipped classifier's features, genkit.realness)."""
    if "accuracy" in test:
        rows = [
            f"| best epoch | {metrics['best_epoch']} of {len(metrics['epochs'])} (by validation cross-entropy) |",
            f"| **test accuracy** | **{100 * test['accuracy']:.2f}%** ({test['images']:,} images; cross-entropy {test['cross_entropy_nats']:.4f} nats/image) |",
        ]
        history = "Per epoch, accuracy (train/val): " + ", ".join(
            f"{r['epoch']}: {r['train_accuracy']:.4f}/{r['val_accuracy']:.4f}" for r in metrics["epochs"])
        return "", rows, history
    hist = "/".join(str(v) for v in test["histogram"])
    rows = [
        f"| best epoch | {metrics['best_epoch']} of {len(metrics['epochs'])} (lowest val pixel Fréchet distance: val digits vs "
        f"the generator's images for fixed noise) |",
        f"| **test realness** | **squared Fréchet distance {test['frechet']:.3f}** between {test['samples']:,} samples "
        f"(seed {test['seed']}) and the {test['images']:,} test digits, in the penultimate-layer features of `{Path(test['judge']).name}` |",
        f"| samples' labels | entropy {test['label_entropy']:.3f} of at most {test['max_entropy']:.3f} nats; per class (judge's labels) {hist} |",
    ]
    history = "Per epoch, pixel Fréchet distance (train/val) and D's mean output on val real/fake: " + ", ".join(
        f"{r['epoch']}: {r['train_fd_px']:.2f}/{r['val_fd_px']:.2f} ({r['val_d_real']:.2f}/{r['val_d_fake']:.2f})"
        for r in metrics["epochs"])
    return "", rows, history


def _text_rows(model, metrics, test, dataset):
    """Sentence models: test NLL (IWAE for a VAE, exact for an LM), -ELBO, KL and perplexity, in
    nats per sentence."""
    how = f"IWAE bound, k = {test['k']}" if test["latent"] else "exact"
    rows = [
        f"| best epoch | {metrics['best_epoch']} of {len(metrics['epochs'])} (by validation -ELBO, KL weight 1) |",
        f"| **test NLL** | **{test['nll_nats']:.2f} nats/sentence** ({how}); perplexity {test['ppl']:.1f} per token "
        f"({test['tokens']:,} tokens with one <eos> per sentence, {test['sentences']:,} sentences) |",
        f"| test -ELBO | {test['nelbo_nats']:.2f} nats/sentence (reconstruction {test['rec_nats']:.2f} + KL {test['kl_nats']:.2f}) |",
    ]
    if test["latent"]:
        rows.append(f"| active units | {test['active_units']} of {test['latent']} (Cov_x E_q[z_u] > 0.01) |")
    history = ("Per epoch, -ELBO in nats/sentence, train/val (the train values are means over the epoch's batches, their "
               "reconstruction a sampled-softmax estimate when `sampled` > 0): "
               + ", ".join(f"{r['epoch']}: {r['train_nelbo']:.1f}/{r['val_nelbo']:.1f}" for r in metrics["epochs"]))
    extra = f"vocabulary {model.num_tokens:,} {model.unit}s (with <pad> <unk> <bos> <eos>); "
    return extra, rows, history


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--command", required=True, help="the command that trained it, for the card")
    ap.add_argument("--dataset", default="pokemon")
    ap.add_argument("-k", type=int, default=None, help="VAEs: importance samples for the test log-likelihood "
                    "[default: the model's, as gk-eval]")
    ap.add_argument("--half", action="store_true", help="store the weights as float16 (half the file)")
    args = ap.parse_args()
    print(write_card(args.run_dir, args.checkpoint, args.command, args.dataset, args.k, args.half))



if __name__ == "__main__":
    main()
