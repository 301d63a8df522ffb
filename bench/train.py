"""Benchmark: training steps per second of every model family, with and without input prefetch.

CPU (``make bench-train``, part of ``make bench``): for each family in genkit.models.FAMILIES, at
its default settings, global batch 32, Adam 1e-3, the default strategy, on the first data set it
trains on (pokemon: the course's 20x20 crops on 167 colours; else mnist; else ptb sentences), the model is built and
compiled as gk-train does and fed by gk-train's own input pipeline (``genkit.train.batches``:
the stateless shuffle and per-example draws, batching). Each row times

* **steps/s, prefetch**: the pipeline as gk-train runs it (``prefetch(AUTOTUNE)``: batches are
  made in the background while the model steps);
* **steps/s, no prefetch**: ``batches(prefetch=False)``: no prefetch, and none injected by
  tf.data, so each batch is made only when the step asks for it;
* **pipeline alone**: batches/s of the pipeline iterated with no model (what it can deliver).

Each steps/s figure is the better of two timed windows (ABBA order: prefetch, none, none,
prefetch; a family under 1 step/s gets one window each way), each up to 30 steps or 3 s (at least
2 steps), each after one untimed step (the first window after 2, which include tracing). The
pipeline alone is timed first, for 1.5 s, before anything trains. The input starves
training when "pipeline alone" is not well above "steps/s, prefetch"; prefetch pays when the
step and the making of a batch take comparable time (the two then overlap). The load average at
start and end is recorded: the machine may be shared, which slows every row alike only roughly.
Results go to ``<out>/train.md`` and ``<out>/train.json`` (written atomically).

GPU (``make bench-gpu``, ``--gpus``): the same rows with prefetch, for 1, 2, ... N visible GPUs
under MirroredStrategy, batch 32 per GPU (global 32 n), to ``<out>/train-gpu.md`` and
``train-gpu.json``; steps/s and images/s, and the speed-up over one GPU. With no GPU visible it
says so and exits 0. ``--cpu-replicas N`` runs that mode over N logical CPUs instead (to check
the mechanics on a machine without GPUs; the numbers mean nothing).

    python bench/train.py [--out bench/results] [--families pixelcnn,vae] [--quick]
    python bench/train.py --gpus [--cpu-replicas N]

``--quick`` (debugging the script) uses tiny models and a few steps and writes nothing unless
``--out`` is given.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/train.py` works without PYTHONPATH

from bench.common import Run, fmt, logger, meta_lines, out_folder, write_report  # noqa: E402
from genkit import datasets, models  # noqa: E402
from genkit.errors import GenkitError  # noqa: E402
from genkit.splits import split_stream  # noqa: E402
from genkit.models.settings import resolve_model_config  # noqa: E402
from genkit.train import batches  # noqa: E402

DATASETS = ("pokemon", "mnist", "ptb")  # tried in this order; a family takes the first it can train on
BATCH = 32
LR = 1e-3
FULL = dict(warmup=2, steps=30, window=3.0, min_steps=2, pipeline_s=1.5)
QUICK = dict(warmup=1, steps=3, window=1.0, min_steps=2, pipeline_s=0.5)
SLOW = 1.0  # steps/s: below this, one window each way (AB) instead of ABBA
#: --quick: small stand-ins for the families that have settings of these names
QUICK_SETTINGS = dict(embed=4, hidden=8, channels=4, layers=1, head=8, latent=2)


log = logger("train")


def data_for(cls, cache: dict):
    """(name, stream) of the first data set in DATASETS the family trains on, or (None, reason)."""
    reasons = []
    for name in DATASETS:
        if name not in cache:
            try:
                cache[name] = datasets.load(name)
            except (GenkitError, OSError) as e:
                cache[name] = e
        stream = cache[name]
        if isinstance(stream, Exception):
            reasons.append(f"{name}: {stream}")
            continue
        try:
            cls.check_training_data(stream)
        except GenkitError as e:
            reasons.append(f"{name}: {e}")
            continue
        return name, stream
    return None, "; ".join(reasons)


def shape_of(stream) -> str:
    size = getattr(stream, "size", None)
    return f"{size[1]}x{size[0]}" if isinstance(size, tuple) else type(stream).__name__.lower()


def settings_for(family: str, quick: bool) -> dict:
    config = resolve_model_config(family)
    if quick:
        config.update({k: v for k, v in QUICK_SETTINGS.items() if k in config})
    return config


def steps_per_s(model, ds, skip: int, steps: int, window: float, min_steps: int) -> tuple[float, int]:
    """Steps/s over up to ``steps`` steps or ``window`` seconds (at least ``min_steps``), after
    ``skip`` untimed steps."""
    import keras

    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter())
            timed = len(times) - 1 - skip
            if timed >= steps or (timed >= min_steps and times[-1] - times[skip] > window):
                self.model.stop_training = True

    model.fit(ds, epochs=1, steps_per_epoch=skip + steps + 1, callbacks=[Clock()], verbose=0, shuffle=False)
    gc.collect()  # the epoch's iterator, and its prefetch thread, go now
    n = len(times) - 1 - skip
    return n / (times[-1] - times[skip]), n


def pipeline_rate(ds, seconds: float) -> float:
    it = iter(ds)
    next(it)  # the first batch builds the pipeline
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        next(it)
        n += 1
    rate = n / (time.perf_counter() - t0)
    del it
    gc.collect()
    return rate


def build(cls, stream, config: dict, strategy=None):
    import tensorflow as tf

    with (strategy or tf.distribute.get_strategy()).scope():
        model = cls.for_stream(stream, **config)
        model.build_for_data()
        model.compile_for_training(LR)
    return model


def cpu_rows(families: list[str], s: dict, quick: bool) -> list[dict]:
    import keras

    rows, cache = [], {}
    for family in families:
        cls = models.get(family)
        name, stream = data_for(cls, cache)
        if name is None:
            log(f"{family}: skipped ({stream})")
            rows.append(dict(family=family, skipped=stream))
            continue
        keras.utils.set_random_seed(0)
        config = settings_for(family, quick)
        t0 = time.perf_counter()
        model = build(cls, stream, config)
        arrays = model.train_arrays(split_stream(stream, "fit"))
        ds = {p: batches(model, arrays, BATCH, shuffle=True, flip=False, seed=0, prefetch=p) for p in (True, False)}
        alone = pipeline_rate(ds[False], s["pipeline_s"])  # before any training, so nothing else runs
        rates: dict[bool, list[float]] = {True: [], False: []}
        counts: dict[bool, list[int]] = {True: [], False: []}
        order = [True, False, False, True]
        while order:
            prefetch = order.pop(0)
            first = not rates[True]
            rate, n = steps_per_s(model, ds[prefetch], s["warmup"] if first else 1, s["steps"], s["window"], s["min_steps"])
            rates[prefetch].append(rate)
            counts[prefetch].append(n)
            if first and rate < SLOW:
                order = [False]  # a slow family: one window each way
        row = dict(
            family=family, dataset=name, shape=shape_of(stream), params=int(model.count_params()),
            settings=config, batch=BATCH,
            steps_per_s_prefetch=max(rates[True]), steps_per_s_no_prefetch=max(rates[False]),
            windows_prefetch=[round(r, 3) for r in rates[True]], windows_no_prefetch=[round(r, 3) for r in rates[False]],
            timed_steps_prefetch=counts[True], timed_steps_no_prefetch=counts[False],
            pipeline_batches_per_s=alone, seconds=round(time.perf_counter() - t0, 1),
        )
        row["prefetch_gain"] = row["steps_per_s_prefetch"] / row["steps_per_s_no_prefetch"]
        row["pipeline_headroom"] = alone / row["steps_per_s_prefetch"]
        log(f"{family} on {name}: {row['steps_per_s_prefetch']:.2f} steps/s with prefetch, "
            f"{row['steps_per_s_no_prefetch']:.2f} without; pipeline alone {alone:.0f} batches/s [{row['seconds']}s]")
        rows.append(row)
        del model
        keras.backend.clear_session()
    return rows


def gpu_rows(families: list[str], s: dict, quick: bool, devices: list[str]) -> list[dict]:
    """The rows on the first ``len(devices)`` devices, under one strategy (in a process of its own:
    two MirroredStrategy objects in one process hand out the same collective keys)."""
    import keras
    import tensorflow as tf

    n = len(devices)
    strategy = tf.distribute.MirroredStrategy(devices) if n > 1 else tf.distribute.OneDeviceStrategy(devices[0])
    rows, cache = [], {}
    for family in families:
        cls = models.get(family)
        name, stream = data_for(cls, cache)
        if name is None:
            rows.append(dict(family=family, devices=n, skipped=stream))
            continue
        keras.utils.set_random_seed(0)
        model = build(cls, stream, settings_for(family, quick), strategy)
        ds = batches(model, model.train_arrays(split_stream(stream, "fit")), BATCH * n, shuffle=True, flip=False, seed=0)
        rate, timed = steps_per_s(model, ds, s["warmup"], s["steps"], s["window"], s["min_steps"])
        rows.append(dict(family=family, dataset=name, devices=n, global_batch=BATCH * n, steps_per_s=rate,
                         images_per_s=rate * BATCH * n, timed_steps=timed, params=int(model.count_params())))
        log(f"{family} on {n} device(s): {rate:.2f} steps/s, {rate * BATCH * n:.0f} images/s")
        del model
        keras.backend.clear_session()
    return rows


def gpu_children(n_devices: int, argv: list[str]) -> list[dict]:
    """gpu_rows for 1..n devices, each in a child process; then the speed-ups over one device."""
    import subprocess

    rows = []
    for n in range(1, n_devices + 1):
        done = subprocess.run([sys.executable, __file__, *argv, "--child", str(n)], stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SystemExit(f"bench-gpu: the run on {n} device(s) failed (exit code {done.returncode})")
        rows += json.loads(done.stdout.strip().splitlines()[-1])
    for row in rows:
        one = next((r for r in rows if r["family"] == row["family"] and r["devices"] == 1 and "images_per_s" in r), None)
        if one and "images_per_s" in row:
            row["speedup_images_per_s"] = row["images_per_s"] / one["images_per_s"]
    return rows


def metadata(run: Run, quick: bool, settings: dict) -> dict:
    return run.meta(quick=quick, batch=BATCH, lr=LR, **settings)


def cpu_markdown(meta: dict, rows: list[dict]) -> str:
    lines = [
        "# Training throughput (CPU)", "",
        *meta_lines(meta),
        f"- each family at its default settings, global batch {meta['batch']}, Adam {meta['lr']}, the default strategy, "
        f"fed by gk-train's pipeline (genkit.train.batches); steps/s: the better of two windows of up to "
        f"{meta['steps']} steps or {meta['window']:g} s, at least {meta['min_steps']} (ABBA order; one window each way "
        f"under {SLOW:g} step/s), after {meta['warmup']} untimed steps"
        + ("; --quick: tiny models, not the defaults" if meta["quick"] else ""),
        "",
        "| family | data | weights | steps/s, prefetch | steps/s, no prefetch | prefetch gain | examples/s | pipeline alone, batches/s | pipeline / step |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['family']} | skipped: {r['skipped']} | | | | | | | |")
            continue
        lines.append(
            f"| {r['family']} | {r['dataset']} {r['shape']} | {r['params']:,} | {fmt(r['steps_per_s_prefetch'])} | "
            f"{fmt(r['steps_per_s_no_prefetch'])} | {r['prefetch_gain']:.2f}x | {r['steps_per_s_prefetch'] * r['batch']:.0f} | "
            f"{r['pipeline_batches_per_s']:.0f} | {r['pipeline_headroom']:.0f}x |")
    lines += [
        "",
        "Prefetch gain = steps/s with prefetch over steps/s without. Pipeline / step = batches/s of the pipeline alone "
        "over steps/s with prefetch: near 1 or below, the input starves training; far above, the step is the bottleneck "
        "and prefetch can only hide the (small) time it takes to make a batch.",
        "",
    ]
    return "\n".join(lines)


def gpu_markdown(meta: dict, rows: list[dict], devices: list[str]) -> str:
    lines = [
        "# Training throughput (GPUs, MirroredStrategy)", "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}; devices: {', '.join(devices)}",
        f"- versions: TensorFlow {meta['tensorflow']}, Keras {meta['keras']}",
        f"- command: `{meta['command']}`",
        f"- batch {meta['batch']} per device, prefetch on; steps/s over up to {meta['steps']} steps or {meta['window']:g} s "
        f"after {meta['warmup']} untimed steps",
        "",
        "| family | devices | global batch | steps/s | images/s | speed-up (images/s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "skipped" in r:
            if r["devices"] == 1:
                lines.append(f"| {r['family']} | skipped: {r['skipped']} | | | | |")
        else:
            lines.append(f"| {r['family']} | {r['devices']} | {r['global_batch']} | {fmt(r['steps_per_s'])} | "
                         f"{r['images_per_s']:.0f} | {r['speedup_images_per_s']:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="folder for train.md/train.json [default: bench/results; none with --quick]")
    ap.add_argument("--families", help="comma-separated families [default: all in genkit.models.FAMILIES]")
    ap.add_argument("--quick", action="store_true", help="tiny models and a few steps (debugging)")
    ap.add_argument("--gpus", action="store_true", help="steps/s on 1..N visible GPUs (MirroredStrategy)")
    ap.add_argument("--cpu-replicas", type=int, default=0, metavar="N", help="with --gpus: N logical CPUs stand in for GPUs")
    ap.add_argument("--steps", type=int, help="timed steps per window")
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)  # --gpus: one device count, rows as JSON
    args = ap.parse_args(argv)

    families = args.families.split(",") if args.families else list(models.FAMILIES)
    for family in families:
        if family not in models.FAMILIES:
            ap.error(f"unknown family {family!r} (choose from {', '.join(models.FAMILIES)})")
    s = dict(QUICK if args.quick else FULL)
    if args.steps:
        s["steps"] = args.steps
    out_dir = out_folder(args.out, args.quick)
    run = Run(__file__, argv)

    if args.gpus:
        import tensorflow as tf

        if args.cpu_replicas:
            from genkit.distribute import logical_cpus

            devices = [d.name for d in logical_cpus(args.cpu_replicas)]
        else:
            devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        if args.child:
            print(json.dumps(gpu_rows(families, s, args.quick, devices[:args.child])))
            return 0
        if not devices:
            print("bench-gpu: no GPU visible to TensorFlow; nothing to measure", file=sys.stderr)
            return 0
        rows = gpu_children(len(devices), argv)
        meta = metadata(run, args.quick, s)
        text = gpu_markdown(meta, rows, devices)
        name = "train-gpu"
    else:
        rows = cpu_rows(families, s, args.quick)
        meta = metadata(run, args.quick, s)
        text = cpu_markdown(meta, rows)
        name = "train"
    print(text)
    if out_dir is not None and not args.cpu_replicas:
        write_report(out_dir, name, text, {"meta": meta, "rows": rows}, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
