"""The one training loop, for every model in the zoo.

``train(stream, run, out_dir)`` asks the family whether it can learn from the stream
(``check_training_data``), splits it (genkit.splits: "fit" to fit, "val" to pick
the best epoch; "test" is never seen), builds and compiles the model under a tf.distribute strategy,
and fits it with Keras. What differs between families stays in the family: the arrays it learns
from (``train_arrays``), how one example is made from them with a stateless seed (``make_example``:
flips, binarization, noise), how it compiles (``compile_for_training``) and how its losses read
(``report``, ``headline``) and the split it fits (``fit_split``). Its steps: the run folder's lock (:meth:`RunFolder.lock`), the
state and options to resume with (:func:`_resume_state`: only the options given change a resumed
run), the model (:func:`_build`), each epoch's end (:class:`EpochCommits`: a row of metrics, the
epoch committed to the run folder; a failed write stops the run with the folder at the epoch
before) and the message when a run stops early. ``GENKIT_QUICK`` (smoke runs) caps each leg at
one epoch. What the run folder holds, and how an epoch is committed to it so that a kill leaves
it whole, is :mod:`genkit.runs`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import math
import os
import signal
import time
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from . import distribute, models, runs, signals
from .datasets import quick_size
from .errors import GenkitError
from .io import Stream
from .progress import keras_progress
from .runs import LAST, METRICS, MODEL, RunConfig, RunFolder
from .splits import split_stream

POOL = 50  # batches sorted together when a family's examples differ in size


def batches(model, arrays: tuple, batch_size: int, *, shuffle: bool, flip: bool, seed: int, start_epoch: int = 0,
             prefetch: bool = True):
    """Batches of the model's (inputs, targets), made by ``model.make_example`` from one row of each
    array and a stateless seed keyed by (seed, epoch, example). With ``shuffle``, an endless stream
    of epochs, each a stateless permutation keyed by (seed, epoch): the order and every random
    draw (flips, binarization, the VAE's noise) depend neither on the strategy, nor on the number
    of replicas, nor on where a resumed run starts. Without, one pass in order with epoch -1's
    fixed draws (validation). A family whose examples differ in size (``example_sizes``) gets
    batches of like size, in a random order of batches (validation: smallest first). Several
    workers shard it by data (each keeps its part of every batch). ``prefetch=False`` (benchmarks) makes batches only when asked: no prefetch, and none
    injected by tf.data."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    options.experimental_optimization.inject_prefetch = prefetch

    def finish(ds):
        return (ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds).with_options(options)

    data = tuple(tf.constant(a) for a in arrays)
    n = len(arrays[0])
    seed64 = tf.constant(seed, tf.int64)

    def fetch(e, i):
        key = tf.stack([e * 1_000_003 + seed64, tf.cast(i, tf.int64)])
        return model.make_example(tuple(tf.gather(a, i) for a in data), key, training=shuffle, flip=flip)

    sizes = model.example_sizes(arrays)

    if not shuffle:
        order = np.argsort(sizes, kind="stable") if sizes is not None else np.arange(n)
        ds = tf.data.Dataset.from_tensor_slices(order).map(lambda i: fetch(tf.constant(-1, tf.int64), i))
        return finish(ds.batch(batch_size))

    def epoch(e):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([seed64, e]))
        if sizes is not None:
            order = like_with_like(order, e)
        return tf.data.Dataset.from_tensor_slices(order).map(lambda i: fetch(e, i)).batch(batch_size)

    def like_with_like(order, e):
        """Each pool of POOL batches of the shuffled order sorted by size and cut into batches,
        the full batches shuffled (the short last one stays last): the batches hold examples of
        like size, so little of each is padding, and their order is random again."""
        size = tf.gather(tf.constant(sizes, tf.int64), order)
        pool = tf.range(n, dtype=tf.int64) // (batch_size * POOL)
        order = tf.gather(order, tf.argsort(pool * (int(sizes.max()) + 1) + size, stable=True))
        full = (n // batch_size) * batch_size
        rows = tf.reshape(order[:full], [-1, batch_size])
        rows = tf.random.experimental.stateless_shuffle(rows, seed=tf.stack([seed64 + 7919, e]))
        return tf.concat([tf.reshape(rows, [-1]), order[full:]], axis=0)

    return finish(tf.data.Dataset.range(start_epoch, 1 << 40).flat_map(epoch))


def _describe(data) -> tuple[str, dict]:
    """The log line's words for the training data and what metrics.json records of it: images
    (size, colours), or whatever else describes itself (genkit.text.Sentences)."""
    if hasattr(data, "describe"):
        return data.describe()
    return (f"images of {data.size[1]}x{data.size[0]}" + (f", {len(data.palette)} colours" if data.is_palette else ", RGB"),
            {"size": list(data.size), "colors": len(data.palette) if data.is_palette else None})


def _quiet(msg: str) -> None:
    pass


@dataclasses.dataclass
class RunState:
    """How far a run has got (what its state.json records): the epoch its folder holds, the best
    validation loss, one row per epoch done, and the seed generators' state to resume with."""

    epoch: int = 0
    best: float = math.inf
    history: list[dict] = dataclasses.field(default_factory=list)
    rng: list | None = None
    #: the best epoch is picked among those after this one: a resumed run that changed a setting
    #: of its loss (``TRAINING_ONLY``) compares only the epochs trained with the new loss
    best_from: int = 0


def check_start(resume: bool, init: str | None) -> None:
    """Refuse a run both resumed and started from another model's weights (gk-train calls this
    before it reads the data, train() again)."""
    if resume and init is not None:
        raise GenkitError("--init starts a new run: a resumed run goes on from its own last epoch (drop --init)")


def train(
    stream: Stream,
    run: RunConfig,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    init: str | None = None,
    take_over: bool = False,
    log: Callable[[str], None] | None = None,
    progress: bool = True,
) -> Path | None:
    """Train ``run.family`` on the stream; returns the path of the best model (None on a
    multi-worker run's other workers, which write nothing). A run folder that holds a run
    already is refused unless ``resume``; resumed, the run goes on with its own options except
    those given in ``run`` (not None). The chief holds the folder's lock for the whole run
    (``take_over``: even one held by another host). SIGINT/SIGTERM raise ``signals.Interrupted``
    (a KeyboardInterrupt) with a one-line message, once any epoch being saved is on disk.

    ``init`` (a checkpoint, run folder or shipped name) starts a new run from that model's
    weights and settings (those of the loss alone may be given anew): to fine-tune it, on the
    data it was trained on (the same vocabulary or palette), with a fresh optimizer."""
    folder = RunFolder(out_dir)
    log = log or _quiet
    cls = models.get(run.family)
    cls.check_training_data(stream)
    start = None
    check_start(resume, init)
    if init is not None:
        run, start = _started_from(init, run, log)
    train_s, val_s = split_stream(stream, cls.fit_split), split_stream(stream, "val")
    if len(train_s) == 0 or len(val_s) == 0:
        raise GenkitError(f"need {getattr(stream, 'noun', 'images')} in both the train and val splits, got {len(train_s)} and {len(val_s)}")
    strategy = distribute.pick(run.strategy or _resumed_option(folder, resume, "strategy"))
    chief = distribute.is_chief(strategy)
    if not chief:  # only the chief writes: files, log lines, progress, stdout
        log, progress = _quiet, False
    with contextlib.ExitStack() as lock:
        problem = None
        if chief:
            try:
                lock.enter_context(folder.lock(take_over=take_over, log=log))
                folder.recover()  # an epoch's commit that a kill cut short is finished, or dropped
            except GenkitError as e:
                problem = e
        distribute.agree(strategy, "the run folder", 0, problem)  # the other workers read the folder after that
        run, done = _resume_state(strategy, folder, run, resume, log)
        keras.utils.set_random_seed(run.seed)
        log("config " + json.dumps(dataclasses.asdict(run), sort_keys=True))

        model = _build(cls, stream, run, strategy, folder, done, start)
        params = int(model.count_params())
        what, data_fields = _describe(stream)
        log(f"{run.family}: {params:,} parameters; train {len(train_s)}, val {len(val_s)} {what}")
        if chief:  # the model is built: bad settings have left no run folder behind
            folder.write_config(dataclasses.asdict(run))

        until = _leg_end(run, done, log)
        if done.epoch < until:
            facts = {"family": run.family, "params": params, "train_images": len(train_s), "val_images": len(val_s),
                     **data_fields, "headline": model.headline}
            _fit(model, run, until, strategy, folder, done, train_s, val_s, facts, chief=chief, log=log, progress=progress)
        distribute.finish(strategy)
    if not chief:
        return None
    if not folder.model_path.is_file():
        raise GenkitError("training finished without a model (no epoch completed)")
    return folder.model_path


def _resumed_option(folder: RunFolder, resume: bool, key: str):
    """An option of the run to resume as its state.json holds it, else its default: for what must
    be known before the state is read in earnest (the strategy, to read it under)."""
    value = None
    if resume:
        with contextlib.suppress(GenkitError):  # _resume_state says what is wrong with the state
            before = (folder.state() or {}).get("run")
            value = before.get(key) if isinstance(before, dict) else None
    return RunConfig.DEFAULTS[key] if value is None else value


def _leg_end(run: RunConfig, done: RunState, log) -> int:
    """The epoch this session trains to: ``run.epochs``, or one epoch on under ``GENKIT_QUICK``."""
    if quick_size() is None or done.epoch + 1 >= run.epochs:
        return run.epochs
    log("GENKIT_QUICK: one epoch this leg")
    return done.epoch + 1


def _resume_state(strategy, folder: RunFolder, run: RunConfig, resume: bool, log) -> tuple[RunConfig, RunState]:
    """The run to go on with (when resuming: the folder's run with the options given in ``run``,
    each change logged; else ``run`` with its defaults) and how far it got; refuses a folder that
    holds another run, or a run when not ``resume``. Every worker must agree on the epoch to
    start from."""
    done, problem = RunState(), None
    try:
        state = folder.state()
        if state is not None and state["family"] != run.family:
            raise GenkitError(f"holds a {state['family']} run, not {run.family}", source=str(folder.path))
        if state is not None and not resume:
            raise GenkitError(f"holds a {run.family} run already ({state['epoch']} epochs done): continue it with "
                              "--resume, or choose another -o DIR", source=str(folder.path))
        if state is not None:
            if not folder.last_path.is_file():
                raise GenkitError(f"cannot resume: {LAST} is missing", source=str(folder.path))
            done = RunState(state["epoch"], state["best_val_loss"], state.get("history", []), state.get("rng"),
                            state.get("best_from", 0))
            try:
                settings = models.config_class(run.family)
                run, changed = run.resumed(state.get("run") or {}, state["model"], settings.defaults(),
                                           settings.TRAINING_ONLY)
            except GenkitError as e:
                raise GenkitError(str(e), source=str(folder.path)) from None
            log(f"resuming after epoch {done.epoch}" + (f" ({', '.join(changed)} from here on)" if changed else ""))
            if any(c.key in settings.TRAINING_ONLY for c in changed):
                done.best, done.best_from = math.inf, done.epoch  # the loss changed: earlier losses do not compare
                log(f"the loss changed: the best epoch is picked among epochs {done.epoch + 1} on")
        else:
            run = run.fresh()
            if resume:
                log(f"nothing to resume in {folder.path}; starting afresh")
    except GenkitError as e:
        problem = e
    distribute.agree(strategy, "the epoch to start from", done.epoch, problem)
    return run, done


def _started_from(spec: str, run: RunConfig, log) -> tuple[RunConfig, object]:
    """--init: the run with the checkpoint's model settings (but for settings of the loss alone,
    which may be given anew) and the checkpoint's model, whose weights the run starts from."""
    try:
        path = models.resolve(spec)
    except GenkitError as e:
        raise GenkitError(f"--init: {e}") from None
    family = models.family_of(path)
    if family != run.family:
        raise GenkitError(f"holds a {family} model, not {run.family}: --init needs a model of the family trained",
                          source=str(path))
    start = models.load(str(path))
    settings = models.config_class(run.family)
    defaults = settings.defaults()
    own = {k: v for k, v in start.get_config().items() if k in defaults}
    model, changed = run.settings_over(own, defaults, settings.TRAINING_ONLY, "a run started with --init",
                                      "give only those settings, or train a new model without --init")
    log(f"starting from the weights of {path}" + (f" ({', '.join(changed)})" if changed else ""))
    return dataclasses.replace(run, model=model, init=str(path.resolve())), start


def _build(cls, stream: Stream, run: RunConfig, strategy, folder: RunFolder, done: RunState, start=None):
    """The compiled model under ``strategy``; when resuming, with the folder's last epoch
    (weights, optimizer state, seed generators) and ``run.lr``; else, given ``start`` (--init),
    with its weights, once the model built for this data is seen to be its twin (the same
    vocabulary, palette, sizes)."""
    with strategy.scope():
        model = cls.for_stream(stream, **run.model)
        model.build_for_data()
        if start is not None and not done.epoch:
            skip = {"name", *cls.config_class.TRAINING_ONLY}
            ours, theirs = model.get_config(), start.get_config()
            # a record one side lacks (an older checkpoint's input_prep) is not a difference
            differ = sorted(k for k in ours.keys() & theirs.keys() if k not in skip and ours[k] != theirs[k])
            if differ:
                verb = "differs" if len(differ) == 1 else "differ"
                raise GenkitError(f"was trained on other data: its {', '.join(differ)} {verb} from this data's "
                                  "(--init fine-tunes a model on the data it was trained on)",
                                  source=getattr(start, "checkpoint_path", None))
            model.set_weights(start.get_weights())
        model.compile_for_training(run.lr)
        if done.epoch:
            model.build_optimizer_state()
            model.load_weights(folder.last_path)
            model.set_learning_rate(run.lr)  # the checkpoint holds the lr it ran with; --lr rules
            runs.set_rng_state(model, done.rng)  # dropout goes on where it stopped
    return model


def _fit(model, run: RunConfig, until: int, strategy, folder: RunFolder, done: RunState, train_s, val_s,
         facts: dict, *, chief: bool, log: Callable[[str], None], progress: bool) -> None:
    """Fit from epoch ``done.epoch`` to ``until`` (``run.epochs`` but for smoke runs), the chief
    committing each epoch to ``folder``. A signal or a lost worker ends it with a one-line message that
    says which epoch the folder keeps."""
    train_ds = batches(model, model.train_arrays(train_s), run.batch_size, shuffle=True, flip=run.flip, seed=run.seed,
                       start_epoch=done.epoch)
    val_ds = batches(model, model.train_arrays(val_s), run.batch_size, shuffle=False, flip=False, seed=run.seed)
    steps = math.ceil(len(train_s) / run.batch_size)
    interrupts = signals.Interrupts()
    callbacks = [EpochCommits(folder if chief else None, run, done, facts, interrupts, log), interrupts.callback()]
    if chief:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(folder.logs_path), write_graph=False))
    if progress:
        callbacks.append(keras_progress(until, steps, initial_epoch=done.epoch, report=model.report))
    try:
        with interrupts:
            model.fit(train_ds, validation_data=val_ds, epochs=until, initial_epoch=done.epoch,
                      steps_per_epoch=steps, callbacks=callbacks, verbose=0, shuffle=False)
    except signals.Interrupted as e:
        raise signals.Interrupted(e.signum, _interrupted_message(e.signum, folder, done, run)) from None
    except Exception as e:
        if not distribute.lost_a_worker(strategy, e):
            raise
        raise GenkitError(_lost_worker_message(folder, done, run)) from None


class EpochCommits(keras.callbacks.Callback):
    """The work at each epoch's end: a row of losses in the model's units, then (in the chief,
    ``folder`` given) the epoch committed to the run folder, with Ctrl-C held off until it is on
    disk, and its log line. ``done`` follows the epoch the folder holds; ``facts`` are
    metrics.json's fixed fields."""

    def __init__(self, folder: RunFolder | None, run: RunConfig, done: RunState, facts: dict,
                 interrupts: signals.Interrupts, log: Callable[[str], None]):
        super().__init__()
        self.folder, self.run, self.done, self.facts, self.interrupts, self.log = folder, run, done, facts, interrupts, log
        self.spent_before = sum(h.get("time_s", 0) for h in done.history)  # earlier sessions' training time
        self.t0 = self.epoch_start = time.time()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = self.row(epoch, logs)
        self.done.history.append(row)
        improved = logs["val_loss"] < self.done.best
        if improved:
            self.done.best = logs["val_loss"]
        if self.folder is None:  # a worker other than the chief writes nothing
            self.done.epoch = epoch + 1
            return
        files = {LAST: lambda path: models.save(self.model, path),
                 METRICS: lambda path: self.folder.write_metrics(self.metrics(), path)}
        if improved:
            files[MODEL] = lambda path: models.save(self.model, path, optimizer=False)
        state = {"family": self.run.family, "epoch": epoch + 1, "best_val_loss": self.done.best, "model": self.run.model,
                 "run": dataclasses.asdict(self.run), "rng": runs.rng_state(self.model), "history": self.done.history,
                 "best_from": self.done.best_from}
        with self.interrupts.hold():  # Ctrl-C waits until the epoch is on disk
            try:
                self.folder.commit(files, state)
            except OSError as e:  # a full disk: the folder keeps the epoch before
                raise GenkitError(_save_failed_message(e, epoch + 1, self.folder, self.done)) from None
        self.done.epoch = epoch + 1
        self.log(self.line(row, improved))

    def row(self, epoch: int, logs: dict) -> dict:
        """metrics.json's row for the epoch: losses as Keras reports them, then in the model's units."""
        row = {"epoch": epoch + 1, "train_loss": float(logs["loss"]), "val_loss": float(logs["val_loss"])}
        for key, value in self.model.report({k: v for k, v in logs.items() if not k.startswith("val_")}).items():
            row[f"train_{key}"] = value
        for key, value in self.model.report({k[4:]: v for k, v in logs.items() if k.startswith("val_")}).items():
            row[f"val_{key}"] = value
        row["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row["time_s"] = round(time.time() - self.epoch_start, 2)
        return row

    def line(self, row: dict, improved: bool) -> str:
        headline = self.facts["headline"]
        extra = "".join(f", val {k[4:]} {v:.4g}" for k, v in row.items() if k.startswith("val_") and k not in ("val_loss", f"val_{headline}"))
        return (f"epoch {row['epoch']}/{self.run.epochs}: train {row[f'train_{headline}']:.4f}, "
                f"val {row[f'val_{headline}']:.4f} {self.model.headline_unit}{extra}{'  (best)' if improved else ''}  [{row['time_s']:.1f}s]")

    def metrics(self) -> dict:
        """metrics.json: the fixed facts, the best epoch so far, the training time and every row."""
        history, headline = self.done.history, self.facts["headline"]
        rows = [r for r in history if r["epoch"] > self.done.best_from]
        best_row = min(rows, key=lambda r: r["val_loss"]) if rows else None
        return {
            **self.facts,
            "best_epoch": best_row["epoch"] if best_row else None,
            **({"best_from": self.done.best_from} if self.done.best_from else {}),
            f"best_val_{headline}": best_row[f"val_{headline}"] if best_row else None,
            "train_time_s": round(self.spent_before + time.time() - self.t0, 1),
            "run": dataclasses.asdict(self.run),
            "epochs": history,
        }


def _interrupted_message(signum: int, folder: RunFolder, done: RunState, run: RunConfig) -> str:
    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    kept = f"{folder.path} keeps epoch {done.epoch}: go on with --resume" if done.epoch else "no epoch was saved"
    return f"{what} in epoch {done.epoch + 1}/{run.epochs}; {kept}"


def _save_failed_message(error: OSError, epoch: int, folder: RunFolder, done: RunState) -> str:
    why = error.strerror or str(error) or type(error).__name__
    kept = f"{folder.path} keeps epoch {done.epoch}" if done.epoch else "no epoch was saved"
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
    fix = "free space and go on with --resume" if full else "go on with --resume once it can be written"
    return f"cannot save epoch {epoch} ({why}); {kept}: {fix}"


def _lost_worker_message(folder: RunFolder, done: RunState, run: RunConfig) -> str:
    kept = f"{folder.path} keeps epoch {done.epoch}" if done.epoch else "no epoch was saved"
    return f"another worker stopped in epoch {done.epoch + 1}/{run.epochs}; {kept}: start every worker again with --resume"
