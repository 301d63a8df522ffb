"""gk-train: train a model of the zoo on a palette-coded stream."""

from __future__ import annotations

import os
import time
from typing import Annotated, List, Optional

import typer

from cli.common import Verbose, Version, entry, guarded, list_option, make_app, read_data, say, seed_option
from genkit.models import FAMILIES
from genkit.runs import RunConfig

PROG = "gk-train"
app = make_app()
D = RunConfig.DEFAULTS  # a new run's defaults; a resumed run keeps its own where an option is not given


@app.command()
@guarded(PROG)
def main(
    model: Annotated[str, typer.Argument(help=f"Model family: {', '.join(FAMILIES)}.", metavar="MODEL", show_default=False)],
    data: Annotated[Optional[List[str]], typer.Option("--data", "-d", metavar="PATH", help="NPZ/PNG files or folders (repeatable) instead of stdin.")] = None,
    dataset: Annotated[Optional[str], typer.Option("--dataset", metavar="NAME", help="A named data set: pokemon (the course's published crops and palette), mnist (the official 60k/10k digits); for sentence-vae ptb, sonnets or tang.")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", metavar="N", show_default=False, help=f"Epochs to train (in all, when resuming) [default: {D['epochs']}].")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", "-b", metavar="N", show_default=False, help=f"Global batch size (split across replicas) [default: {D['batch_size']}].")] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", metavar="RATE", show_default=False, help=f"Adam learning rate [default: {D['lr']}].")] = None,
    seed: Annotated[Optional[int], seed_option(f"Seed of weights, shuffling and augmentation [default: {D['seed']}].")] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="DIR", help="Run folder [default: runs/MODEL-TIMESTAMP].", show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in -o DIR from its last completed epoch (weights, optimizer, random state), with its own options but those given here. Without it, a folder that holds a run is refused.")] = False,
    init: Annotated[Optional[str], typer.Option("--init", metavar="MODEL", help="Start a new run from this model's weights and settings (a .keras file, run folder or shipped name), to fine-tune it on the data it was trained on; --set may change only settings of the loss (e.g. a sentence VAE's kl_floor_token).", show_default=False)] = None,
    take_over: Annotated[bool, typer.Option("--take-over", help="Take -o DIR's lock from a run on another host (or an unreadable lock): that run must be gone.")] = False,
    flip: Annotated[Optional[bool], typer.Option("--flip/--no-flip", show_default=False, help="Augment with random horizontal flips [default: no flips].")] = None,
    config: Annotated[Optional[str], typer.Option("--config", metavar="FILE", help="Model settings as JSON (then --set overrides). A resumed run keeps its settings: these must match them, but for settings of the loss alone (e.g. a sentence VAE's kl_floor), which change from there on.")] = None,
    settings: Annotated[Optional[List[str]], typer.Option("--set", metavar="KEY=VALUE", help="One model setting, e.g. --set hidden=128 (repeatable).")] = None,
    latent: Annotated[Optional[int], typer.Option("--latent", metavar="N", help="VAEs: size of the code (same as --set latent=N) [default: 10].", show_default=False)] = None,
    kl_anneal: Annotated[Optional[str], typer.Option("--kl-anneal", metavar="NAME", help="sentence-vae: the KL weight's schedule, logistic, linear or none (same as --set kl_anneal=NAME; its shape: --set kl_k, kl_x0, kl_steps).", show_default=False)] = None,
    word_dropout: Annotated[Optional[float], typer.Option("--word-dropout", metavar="P", help="sentence-vae: decoder input words replaced by <unk> with probability P, in training only (same as --set word_dropout=P).", show_default=False)] = None,
    strategy: Annotated[Optional[str], typer.Option("--strategy", metavar="NAME", show_default=False, help=f"auto (mirrored with several GPUs, else default), default, mirrored, or multi-worker (one process per machine, configured by TF_CONFIG; see the README) [default: {D['strategy']}].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-epoch lines on stderr.")] = False,
    verbose: Verbose = False,
    version: Version = None,
    list_models: Annotated[Optional[bool], list_option()] = None,
) -> None:
    """Train MODEL on a palette-coded stream (or text, one sentence a line, for sentence-vae)
    and print the best model's path.

    The stream comes on stdin (gk-quantize sprites/ --crop 20 | gk-train pixelcnn), from --data,
    or from --dataset (pokemon; mnist: grey digits with labels, binarized afresh each epoch
    for vae/ae/cvae). Images are split by genkit's fixed split: "test" is never trained on,
    "val" picks the best epoch. The run folder gets model.keras (best by validation),
    last.keras (for --resume), metrics.json, config.json and TensorBoard logs.

    Each epoch is saved as a whole (state.json last), so a run killed at any instant goes on
    with --resume (its options kept, but for those given again; its --dataset or --data too,
    when none is given) and ends as an uninterrupted run would. Without --resume, an -o DIR
    that holds a run is refused; so is one where another run is live (a killed run's lock is
    stale and taken). A failed write (a full disk) stops the run with the folder at its last
    complete epoch (exit code 2). Ctrl-C (SIGINT) or SIGTERM stops at once, after any epoch
    being saved is on disk: one line on stderr, exit code 130 (SIGTERM: 143). With --strategy
    multi-worker only the chief writes the run folder, log lines and stdout.

    Examples:

    \b
      gk-quantize sprites/ --crop 20 | gk-train pixelcnn -o runs/cnn
      gk-train pixelrnn --dataset pokemon --epochs 20 --flip -o runs/rnn
      gk-train pixelrnn -o runs/rnn --epochs 30 --resume
      gk-train sentence-vae --dataset tang --init tang-sentence-vae --set kl_floor_token=16 --epochs 3 -o runs/tang-ft
    """
    from genkit.distribute import STRATEGIES
    from genkit import models
    from genkit.errors import GenkitError
    from genkit.models.settings import resolve_model_config
    from genkit.runs import RunFolder
    from genkit.train import check_start, train

    if model not in models.names():
        raise GenkitError(f"unknown model {model!r} (choose from {', '.join(models.names())})")
    for name, value in (("--epochs", epochs), ("--batch-size", batch_size)):
        if value is not None and value < 1:
            raise GenkitError(f"{name} must be at least 1")
    if lr is not None and not lr > 0:
        raise GenkitError("--lr must be positive")
    if strategy is not None and strategy not in STRATEGIES:
        raise GenkitError(f"unknown strategy {strategy!r} (choose from {', '.join(STRATEGIES)})")
    if resume and not output:
        raise GenkitError("--resume needs the run folder: -o DIR")
    check_start(resume, init)
    shorthands = {"latent": latent, "kl_anneal": kl_anneal, "word_dropout": word_dropout}  # --latent N = --set latent=N
    settings = [*(settings or []), *(f"{key}={value}" for key, value in shorthands.items() if value is not None)]
    named: list = []  # the settings asked for, even at their defaults (--set word_dropout=0 on --init)
    model_config = resolve_model_config(model, config, settings, named) if config or settings else None  # None: the run's own
    if output and not os.environ.get("TF_CONFIG"):  # a folder in use is refused before the data is read
        RunFolder(output).check_lock(take_over=take_over)  # (a multi-worker run's chief alone locks it, in train)
    if resume and not data and not dataset:  # the run's own data, when it was not read from stdin
        source = RunFolder(output).source() or {}
        dataset, data = source.get("dataset"), source.get("paths")
        if (dataset or data) and not quiet:
            say(PROG, "reading the run's data again: " + (f"--dataset {dataset}" if dataset else " ".join(data)))
    stream = read_data(data, dataset, None, family=model, prog=PROG)
    source = ({"dataset": dataset} if dataset else
              {"paths": [os.path.abspath(p) for p in data]} if data and "-" not in data else None)
    run = RunConfig(family=model, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, flip=flip,
                    strategy=strategy, model=model_config, source=source,
                    given=tuple(dict.fromkeys(named)) if model_config is not None else None)
    out_dir = output or f"runs/{model}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        path = train(stream, run, out_dir, resume=resume, init=init, take_over=take_over,
                     log=None if quiet else (lambda m: say(PROG, m)))
    except KeyboardInterrupt as e:  # SIGINT/SIGTERM: one line, 128 + the signal's number
        say(PROG, getattr(e, "message", "interrupted"))
        raise typer.Exit(getattr(e, "exit_code", 130)) from None
    if path is not None:  # None: a multi-worker run's other workers
        print(path)


run = entry(app, PROG, quick_exit=False)  # a run's log writers close in the teardown

if __name__ == "__main__":
    run()
