"""Model cards for shipped checkpoints, written from a run folder's own records (release tooling).

    python scripts/modelcard.py RUN_DIR checkpoints/NAME.keras --command "make ..."

copies RUN_DIR/model.keras to the checkpoint (atomically, without optimizer state; ``--half``
stores its weights as float16), measures the file as shipped on the test split with the model's
own evaluate_stream, and writes NAME.md beside it: data, split, command, training time, and the
rows of the evaluation's kind (genkit.models.capabilities.Evaluation.card_rows).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import time
from pathlib import Path

from genkit import datasets, models
from genkit.errors import GenkitError
from genkit.io import write_file_atomic
from genkit.models.capabilities import Evaluates, require
from genkit.runs import MODEL, RunFolder

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


def started_from(metrics: dict, minutes: float | None = None) -> tuple[str, float | None] | None:
    """The model a run started from (``gk-train --init``), as the card names it, and the minutes
    of training it had: ``minutes`` when given, else those its run folder's metrics.json records
    (None when that folder is gone); None for a run from fresh weights."""
    init = (metrics.get("run") or {}).get("init")
    if not init:
        return None
    path = Path(init)  # gk-train records it resolved: a run folder behind a link in runs/ is named by the link
    links = (link for link in (Path.cwd() / "runs").glob("*") if link.is_symlink() and link.resolve() == path.parent)
    path = next((link / path.name for link in links), path)
    with contextlib.suppress(ValueError):
        path = path.relative_to(Path.cwd())
    if minutes is None and path.name == MODEL:
        with contextlib.suppress(GenkitError, KeyError, TypeError):
            minutes = RunFolder(path.parent).metrics()["train_time_s"] / 60
    return str(path), minutes


def training_time(metrics: dict, before: tuple[str, float | None] | None) -> str:
    """The card's training-time row: this run's wall time, and that of the model it started from."""
    own = metrics["train_time_s"] / 60
    where = f"on {platform.processor() or platform.machine()} ({os.cpu_count() or 1} CPU cores), TensorFlow CPU"
    if before is None:
        return f"{own:.1f} min (wall) {where}"
    name, minutes = before
    if minutes is None:
        return f"{own:.1f} min (wall) {where}, after the training of `{name}`, the model it started from (`--init`)"
    return (f"{own + minutes:.1f} min (wall) {where}: {minutes:.1f} min for `{name}`, then {own:.1f} min from its "
            "weights (`--init`)")


def write_card(run_dir: Path, checkpoint: Path, command: str, dataset: str = "pokemon", k: int | None = None,
               half: bool = False, before_min: float | None = None) -> str:
    """Ship RUN_DIR/model.keras as ``checkpoint`` (float16 weights with ``half``), measure the
    file as shipped on the test split and write the card beside it; returns the card's text."""
    run_folder = RunFolder(run_dir)
    metrics = run_folder.metrics()
    models.save(models.load(str(run_folder.model_path)), checkpoint, optimizer=False, half=half)
    model = require(models.load(str(checkpoint)), Evaluates, command="a model card")  # the card measures what ships
    t0 = time.time()
    test = model.evaluate_stream(datasets.load(dataset, split="test"), k=k)
    eval_s = time.time() - t0
    text = card_text(checkpoint, command, dataset, metrics, model, test, eval_s=eval_s, half=half,
                     before=started_from(metrics, before_min))
    write_file_atomic(checkpoint.with_suffix(".md"), text.encode())
    return text


def card_text(checkpoint: Path, command: str, dataset: str, metrics: dict, model, test, *, eval_s: float,
              half: bool = False, before: tuple[str, float | None] | None = None) -> str:
    """The card of ``model`` (shipped as ``checkpoint``), from its run's ``metrics`` and its
    evaluation ``test`` on the test split; ``before``: the model the run started from
    (:func:`started_from`)."""
    extra, rows, history = test.card_rows(metrics, model, lambda split: model.evaluate_stream(datasets.load(dataset, split=split)))
    run = metrics["run"]
    flip = f"flip {run['flip']}, " if test.of_images else ""
    # a model fitted on another split (the mixture, on val) still names the fit split's size
    fit = metrics['train_images'] if model.fit_split == "fit" else len(datasets.load(dataset, split="fit"))
    note, own_rows = model.card_notes(metrics)
    split = SPLIT[dataset].format(fit=fit, val=metrics['val_images'], test=test.count) + note
    rows = own_rows + rows
    how = f"-k {test['k']}" if "k" in test else "--split test"
    lines = [
        f"# {checkpoint.name}",
        "",
        f"A `{metrics['family']}` model ({models.about(metrics['family'])}), trained by genkit's own loop.",
        "",
        "| | |",
        "|---|---|",
        f"| data | `--dataset {dataset}`: {DATA[dataset].format(colors=metrics.get('colors'))} |",
        f"| split | {split} |",
        f"| command | `{command}` |",
        f"| settings | {json.dumps(run['model'], sort_keys=True)}; {extra}batch {run['batch_size']}, lr {run['lr']}, seed {run['seed']}, "
        f"{flip}{len(metrics['epochs'])} epochs |",
        f"| parameters | {metrics['params']:,} ({checkpoint.stat().st_size / 1e6:.1f} MB file"
        + (", weights stored as float16" if half else "") + ") |",
        f"| training time | {training_time(metrics, before)} |",
        *rows,
        f"| measured | {time.strftime('%Y-%m-%d')} with `gk-eval {checkpoint} --dataset {dataset} {how}` ({eval_s / 60:.1f} min) |",
        "",
        history,
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--command", required=True, help="the command that trained it, for the card")
    ap.add_argument("--dataset", default="pokemon")
    ap.add_argument("-k", type=int, default=None, help="VAEs: importance samples for the test log-likelihood "
                    "[default: the model's, as gk-eval]")
    ap.add_argument("--half", action="store_true", help="store the weights as float16 (half the file)")
    ap.add_argument("--before-min", type=float, default=None, help="minutes of training of the model the run "
                    "started from (gk-train --init), when its run folder is gone")
    args = ap.parse_args()
    print(write_card(args.run_dir, args.checkpoint, args.command, args.dataset, args.k, args.half, args.before_min))


if __name__ == "__main__":
    main()
