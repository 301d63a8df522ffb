"""Model cards for shipped checkpoints, written from a run folder's own records.

    python -m genkit.modelcard RUN_DIR checkpoints/NAME.keras --command "make ..."

copies RUN_DIR/model.keras to the checkpoint (atomically, without optimizer state), measures
the test split's likelihood with the model's own evaluate_stream, and writes NAME.md beside it:
data, split, command, training time, metrics.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from . import datasets, models
from .io import write_file_atomic


def write_card(run_dir: Path, checkpoint: Path, command: str, dataset: str = "pokemon") -> str:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    model = models.load(str(run_dir / "model.keras"))
    models.save(model, checkpoint, optimizer=False)
    test = model.evaluate_stream(datasets.load(dataset, split="test"))
    val = model.evaluate_stream(datasets.load(dataset, split="val"))
    run = metrics["run"]
    size_mb = checkpoint.stat().st_size / 1e6
    lines = [
        f"# {checkpoint.name}",
        "",
        f"A `{metrics['family']}` model ({models.FAMILIES[metrics['family']][1]}), trained by genkit's own loop.",
        "",
        "| | |",
        "|---|---|",
        f"| data | `--dataset {dataset}`: the course's published 20x20 crops (pixel_color.txt) and its {metrics['colors']}-colour palette (colormap.txt) |",
        f"| split | genkit's fixed split: fit {metrics['train_images']} images, val {metrics['val_images']} (picks the best epoch), test {test['images']} (Pokedex number divisible by 10; never trained on) |",
        f"| command | `{command}` |",
        f"| settings | {json.dumps(run['model'], sort_keys=True)}; batch {run['batch_size']}, lr {run['lr']}, seed {run['seed']}, flip {run['flip']}, {run['epochs']} epochs |",
        f"| parameters | {metrics['params']:,} ({size_mb:.1f} MB file) |",
        f"| training time | {metrics['train_time_s'] / 60:.1f} min on {platform.processor() or platform.machine()} ({_cpus()} CPU cores), TensorFlow CPU |",
        f"| best epoch | {metrics['best_epoch']} of {len(metrics['epochs'])} |",
        f"| **test NLL** | **{test['bits_per_pixel']:.4f} bits/px** ({test['nats_per_image']:.1f} nats/image) |",
        f"| val NLL | {val['bits_per_pixel']:.4f} bits/px |",
        f"| measured | {time.strftime('%Y-%m-%d')} with `gk-eval {checkpoint} --dataset {dataset} --split test` |",
        "",
        "Per epoch (bits/px): " + ", ".join(f"{r['epoch']}: {r['train_bits_per_pixel']:.3f}/{r['val_bits_per_pixel']:.3f}" for r in metrics["epochs"]) + " (train/val)",
        "",
    ]
    text = "\n".join(lines)
    write_file_atomic(checkpoint.with_suffix(".md"), text.encode())
    return text


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--command", required=True, help="the command that trained it, for the card")
    ap.add_argument("--dataset", default="pokemon")
    args = ap.parse_args()
    print(write_card(args.run_dir, args.checkpoint, args.command, args.dataset))



if __name__ == "__main__":
    main()
