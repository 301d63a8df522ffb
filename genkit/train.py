"""The one training loop, for every model in the zoo.

``train(stream, run, out_dir)`` asks the family whether it can learn from the stream
(``check_training_data``), splits it (genkit.splits: "fit" to fit, "val" to pick
the best epoch; "test" is never seen), builds and compiles the model under a tf.distribute strategy,
and fits it with Keras. What differs between families stays in the family: the arrays it learns
from (``train_arrays``), how one example is made from them with a stateless seed (``make_example``:
flips, binarization, noise), how it compiles (``compile_for_training``) and how its losses read
(``report``, ``headline``). The run folder gets:

    model.keras    the best model by validation loss (written atomically)
    last.keras     the latest epoch, with its optimizer state, for --resume
    state.json     the epoch last completed and the best so far
    metrics.json   per-epoch train/val loss in the model's units, sizes, config, training time
    config.json    the resolved run config
    logs/          TensorBoard logs
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import models
from .errors import GenkitError
from .io import Stream, write_file_atomic
from .splits import split_stream

POOL = 50  # batches sorted together when a family's examples differ in size


@dataclasses.dataclass
class RunConfig:
    family: str
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    flip: bool = False
    strategy: str = "auto"
    model: dict = dataclasses.field(default_factory=dict)


def resolve_model_config(family: str, config_file: str | None = None, overrides: list[str] | None = None) -> dict:
    """Family defaults, then a JSON file, then KEY=VALUE overrides; unknown keys and bad types fail."""
    import importlib

    module = importlib.import_module(models.FAMILIES[family][0] + ".config")
    config_cls = getattr(module, module.MODEL_CLASS + "Config")  # e.g. VAE -> VAEConfig
    defaults = dataclasses.asdict(config_cls())
    out = dict(defaults)
    if config_file:
        try:
            loaded = json.loads(Path(config_file).read_text())
        except (OSError, ValueError) as e:
            raise GenkitError(f"cannot read config ({e})", source=config_file) from None
        if not isinstance(loaded, dict):
            raise GenkitError("config must be a JSON object", source=config_file)
        loaded = loaded.get("model", loaded)
        for key, value in loaded.items():
            out[key] = _coerce(family, key, value, defaults)
    for item in overrides or []:
        if "=" not in item:
            raise GenkitError(f"--set takes KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = _coerce(family, key.strip(), value.strip(), defaults)
    models.check_limits(getattr(module, "LIMITS", {}), out)
    if hasattr(module, "check"):  # the family's own checks of the values, before any work
        module.check(out)
    return out


def _coerce(family, key, value, defaults):
    if key not in defaults:
        raise GenkitError(f"{family} has no setting {key!r} (settings: {', '.join(defaults)})")
    kind = type(defaults[key])
    if isinstance(value, str):
        if kind is bool:
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise GenkitError(f"{key} must be true or false, got {value!r}")
        try:
            return kind(value)
        except ValueError:
            raise GenkitError(f"{key} must be {kind.__name__}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise GenkitError(f"{key} must be {kind.__name__}, got {value!r}")
    return value


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


def train(
    stream: Stream,
    run: RunConfig,
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    log: Callable[[str], None] | None = None,
    progress: bool = True,
) -> Path | None:
    """Train ``run.family`` on the stream; returns the path of the best model (None on a
    multi-worker run's other workers, which write nothing). A run folder that holds a run
    already is refused unless ``resume``. SIGINT/SIGTERM raise ``distribute.Interrupted`` (a
    KeyboardInterrupt) with a one-line message, once any epoch being saved is on disk."""
    import keras

    from . import distribute
    from .progress import keras_progress

    out = Path(out_dir)
    log = log or (lambda msg: None)
    cls = models.get(run.family)
    cls.check_training_data(stream)
    train_s, val_s = split_stream(stream, "fit"), split_stream(stream, "val")
    if len(train_s) == 0 or len(val_s) == 0:
        raise GenkitError(f"need {getattr(stream, 'noun', 'images')} in both the train and val splits, got {len(train_s)} and {len(val_s)}")
    keras.utils.set_random_seed(run.seed)
    strategy = distribute.pick(run.strategy)
    chief = distribute.is_chief(strategy)
    if not chief:  # only the chief writes: files, log lines, progress, stdout
        log, progress = (lambda msg: None), False
    else:
        distribute.recover(out)  # an epoch's commit that a kill cut short is finished, or dropped
    distribute.gather(strategy, [0])  # the other workers read the folder after that
    start_epoch, best, rng, problem = 0, math.inf, None, None
    history: list[dict] = []
    try:
        state = distribute.read_state(out)
        if state is not None and state["family"] != run.family:
            raise GenkitError(f"holds a {state['family']} run, not {run.family}", source=str(out))
        if state is not None and not resume:
            raise GenkitError(f"holds a {run.family} run already ({state['epoch']} epochs done): continue it with "
                              "--resume, or choose another -o DIR", source=str(out))
        if state is not None:
            if not (out / "last.keras").is_file():
                raise GenkitError("cannot resume: last.keras is missing", source=str(out))
            start_epoch, best, history, rng = state["epoch"], state["best_val_loss"], state.get("history", []), state.get("rng")
            before = state.get("run", {})
            changed = [f"{k} {before[k]} -> {getattr(run, k)}" for k in ("batch_size", "lr", "seed", "flip")
                       if k in before and before[k] != getattr(run, k)]
            run = RunConfig(**{**dataclasses.asdict(run), "model": state["model"]})
            log(f"resuming after epoch {start_epoch}" + (f" ({', '.join(changed)} from here on)" if changed else ""))
        elif resume:
            log(f"nothing to resume in {out}; starting afresh")
    except GenkitError as e:
        problem = e
    distribute.agree(strategy, "the epoch to start from", start_epoch, problem)
    log("config " + json.dumps(dataclasses.asdict(run), sort_keys=True))

    with strategy.scope():
        model = cls.for_stream(stream, **run.model)
        model.build_for_data()
        model.compile_for_training(run.lr)
        if start_epoch:
            model.build_optimizer_state()
            model.load_weights(out / "last.keras")
            model.set_learning_rate(run.lr)  # the checkpoint holds the lr it ran with; --lr rules
            distribute.set_rng_state(model, rng)  # dropout goes on where it stopped
    params = int(model.count_params())
    what, data_fields = _describe(stream)
    log(f"{run.family}: {params:,} parameters; train {len(train_s)}, val {len(val_s)} {what}")
    if chief:  # the model is built: bad settings have left no run folder behind
        out.mkdir(parents=True, exist_ok=True)
        write_file_atomic(out / "config.json", (json.dumps(dataclasses.asdict(run), indent=2) + "\n").encode())

    train_ds = batches(model, model.train_arrays(train_s), run.batch_size, shuffle=True, flip=run.flip, seed=run.seed,
                        start_epoch=start_epoch)
    val_ds = batches(model, model.train_arrays(val_s), run.batch_size, shuffle=False, flip=False, seed=run.seed)
    headline = model.headline
    steps = math.ceil(len(train_s) / run.batch_size)
    t0 = time.time()
    epoch_start = [time.time()]
    spent_before = sum(h.get("time_s", 0) for h in history)
    interrupts = distribute.Interrupts()
    saved = [start_epoch]  # the epoch the run folder holds

    class Checkpoints(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epoch_start[0] = time.time()

        def on_epoch_end(self, epoch, logs=None):
            nonlocal best
            logs = logs or {}
            row = {"epoch": epoch + 1, "train_loss": float(logs["loss"]), "val_loss": float(logs["val_loss"])}
            for key, value in model.report({k: v for k, v in logs.items() if not k.startswith("val_")}).items():
                row[f"train_{key}"] = value
            for key, value in model.report({k[4:]: v for k, v in logs.items() if k.startswith("val_")}).items():
                row[f"val_{key}"] = value
            row["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            row["time_s"] = round(time.time() - epoch_start[0], 2)
            history.append(row)
            improved = logs["val_loss"] < best
            if improved:
                best = logs["val_loss"]
            if not chief:
                saved[0] = epoch + 1
                return
            files = {"last.keras": lambda path: models.save(self.model, path), "metrics.json": write_metrics}
            if improved:
                files["model.keras"] = lambda path: models.save(self.model, path, optimizer=False)
            state = {"family": run.family, "epoch": epoch + 1, "best_val_loss": best, "model": run.model,
                     "run": dataclasses.asdict(run), "rng": distribute.rng_state(self.model), "history": history}
            with interrupts.hold():  # Ctrl-C waits until the epoch is on disk
                distribute.commit(out, files, state)
            saved[0] = epoch + 1
            extra = "".join(f", val {k[4:]} {v:.4g}" for k, v in row.items() if k.startswith("val_") and k not in ("val_loss", f"val_{headline}"))
            log(f"epoch {epoch + 1}/{run.epochs}: train {row[f'train_{headline}']:.4f}, "
                f"val {row[f'val_{headline}']:.4f} {model.headline_unit}{extra}{'  (best)' if improved else ''}  [{row['time_s']:.1f}s]")

    def write_metrics(path):
        best_row = min(history, key=lambda r: r["val_loss"]) if history else None
        metrics = {
            "family": run.family,
            "params": params,
            "train_images": len(train_s),
            "val_images": len(val_s),
            **data_fields,
            "headline": headline,
            "best_epoch": best_row["epoch"] if best_row else None,
            f"best_val_{headline}": best_row[f"val_{headline}"] if best_row else None,
            "train_time_s": round(spent_before + time.time() - t0, 1),
            "run": dataclasses.asdict(run),
            "epochs": history,
        }
        write_file_atomic(path, (json.dumps(metrics, indent=2) + "\n").encode())

    callbacks = [Checkpoints(), interrupts.callback()]
    if chief:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(out / "logs"), write_graph=False))
    if progress:
        callbacks.append(keras_progress(run.epochs, steps, initial_epoch=start_epoch))
    if start_epoch < run.epochs:
        try:
            with interrupts:
                model.fit(train_ds, validation_data=val_ds, epochs=run.epochs, initial_epoch=start_epoch,
                          steps_per_epoch=steps, callbacks=callbacks, verbose=0, shuffle=False)
        except distribute.Interrupted as e:
            what = "interrupted" if e.signum == signal.SIGINT else f"stopped by {signal.Signals(e.signum).name}"
            kept = f"{out} keeps epoch {saved[0]}: go on with --resume" if saved[0] else "no epoch was saved"
            raise distribute.Interrupted(e.signum, f"{what} in epoch {saved[0] + 1}/{run.epochs}; {kept}") from None
        except Exception as e:
            if not distribute.lost_a_worker(strategy, e):
                raise
            kept = f"{out} keeps epoch {saved[0]}" if saved[0] else "no epoch was saved"
            raise GenkitError(f"another worker stopped in epoch {saved[0] + 1}/{run.epochs}; {kept}: start every worker "
                              "again with --resume") from None
    distribute.finish(strategy)
    if not chief:
        return None
    if not (out / "model.keras").is_file():
        raise GenkitError("training finished without a model (no epoch completed)")
    return out / "model.keras"
