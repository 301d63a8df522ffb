"""Benchmark: pixel models on the course's Pokemon crops -- test likelihood, sampling speed, machine limit.

What it measures, in one run, on one split and one palette (``genkit.datasets.load("pokemon")``:
the course's 20x20 crops on its 167-colour palette; test = Pokedex number divisible by 10, 81
images; train 711 = fit 632 + val 79):

1. **Test NLL in bits/px** (``evaluate_stream`` on the test split) of
   * a unigram: colour frequencies counted on the train split, add-one (Laplace) smoothed;
   * the course's baseline, the homework's 1-D LSTM as taught: genkit's pixelrnn with
     ``above=False, position=False`` (a plain LSTM over the raster sequence of the previous
     pixels), embed 64, hidden 128, one layer, no dropout. It is read from ``--course-run``
     (default runs/bench-course-lstm) if that holds a model.keras, else trained there by
     ``genkit.train.train`` (fit/val split, best epoch by val; ``--course-epochs``, default 15);
     an interrupted run there is resumed. Its best epoch and training time come from the run's
     metrics.json; the homework's own figure (about 2.65 bits/px at its best epoch, measured
     elsewhere) is printed beside it;
   * genkit's shipped checkpoints ``pokemon-pixelrnn.keras`` and ``pokemon-pixelcnn.keras`` in
     ``--checkpoints`` (default: genkit.models.CHECKPOINT_DIR), loaded with ``genkit.models.load``.
2. **Sampling throughput** (20x20 sprites per second) of each checkpoint, seed 0, temperature 1:
   * cached: ``generate(n, seed=0)`` (the family's stepper), at batch ``--n-cached`` (64) and at
     batch ``--n-naive`` (4); best of ``--repeat`` runs, after warm-up calls at batch 1 and 2 so
     that tf.function tracing is excluded (the report says how many traces the timed runs made);
   * naive: ``generate(n_naive, seed=0, naive=True)``, which re-runs the whole model for every
     pixel. genkit's ``naive_logits`` calls the model eagerly; an eager Keras LSTM over 400
     steps takes seconds per call here, which would make one naive PixelRNN batch take tens of
     minutes and would measure eager-vs-graph overhead rather than caching. So the timed naive
     run replaces ``naive_logits`` (on the instance, for that run only) with the same forward
     pass wrapped in one ``tf.function``: same weights, same logits, same draws. The eager
     library path is reported too, extrapolated from ``--eager-calls`` timed calls (400 calls a
     batch). The speed-up is cached / naive at the same batch (n_naive); cached at batch 64 over
     naive at batch n_naive is reported too;
   * identical: cached and naive samples of the naive batch (same seed, same batch) compared
     pixel for pixel.
3. **Machine limit**: float32 matmul FLOP/s (``tf.linalg.matmul`` and numpy, 1024^2 and 2048^2,
   best of ``--trials``), the best taken as the machine's limit. FLOPs per pixel are taken as
   2 x (number of weights) (one multiply-add per weight per pixel; embedding tables are counted
   though they are lookups, so this overstates the work slightly and the limit is conservative);
   the limit in sprites/s is FLOP/s / (2 * weights * 400).

The run ends with the issue's targets: test NLL <= 2.2 bits/px for the best model (stretch 2.0);
cached sampling >= 50x faster than naive and >= 200 sprites/s on 2 CPU cores.
Results go to ``<out>/pixel.md`` and ``<out>/pixel.json`` (written atomically).

    python bench/pixel.py [--checkpoints DIR] [--out bench/results] [--quick]

``--quick`` is for debugging the script: untrained tiny stand-ins replace the checkpoints, the
course LSTM is a tiny one trained for 1 epoch in a temporary folder, sizes are small, and
nothing is written unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/pixel.py` works without PYTHONPATH

from bench.common import ROOT, Run, best_time, fmt, logger, meta_lines, out_folder, publish, shown, verdict  # noqa: E402
from genkit import datasets, models  # noqa: E402
from genkit.errors import GenkitError  # noqa: E402
from genkit.io import Stream  # noqa: E402
from genkit.runs import RunFolder  # noqa: E402
from genkit.train import RunConfig, train  # noqa: E402

DATASET = "pokemon"
LN2 = math.log(2.0)
#: the homework's 1-D LSTM: embedding -> one LSTM -> softmax, previous pixel only
COURSE_MODEL = dict(embed=64, hidden=128, layers=1, dropout=0.0, above=False, position=False)
COURSE_RUN = dict(batch_size=32, lr=1e-3, seed=0)
COURSE_REFERENCE = 2.65  # bits/px at the homework's best epoch, measured elsewhere
COURSE_EPOCHS = 40
CHECKPOINTS = (("genkit pixelrnn", "pokemon-pixelrnn.keras"), ("genkit pixelcnn", "pokemon-pixelcnn.keras"),
               ("genkit mixture", "pokemon-mixture.keras"))

TARGET_NLL, STRETCH_NLL = 2.2, 2.0
TARGET_SPEEDUP = 50.0
TARGET_RATE = 200.0  # sprites/s
TARGET_CORES = 2

FULL = dict(n_cached=64, n_naive=4, repeat=3, eager_calls=2, trials=5, sizes=(1024, 2048))
QUICK = dict(n_cached=8, n_naive=2, repeat=1, eager_calls=1, trials=2, sizes=(256, 512))
#: tiny untrained stand-ins for --quick
QUICK_MODELS = {
    "pixelrnn": dict(embed=8, hidden=16, layers=1, dropout=0.0),
    "pixelcnn": dict(embed=8, channels=8, layers=2, head=16),
}
QUICK_COURSE = dict(COURSE_MODEL, embed=8, hidden=16)


log = logger("pixel")


@dataclass
class NllRow:
    model: str
    bits_per_pixel: float | None = None
    params: int | None = None
    best_epoch: str = ""
    train_time_s: float | None = None
    source: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class SampleRow:
    model: str
    weights: int
    n_cached: int
    n_naive: int
    cached_s: float  # one batch of n_cached, best of repeat
    cached_small_s: float  # one batch of n_naive, best of repeat
    naive_s: float  # one batch of n_naive, naive=True with a compiled forward
    eager_call_s: float  # one eager naive_logits call on a batch of n_naive, best of eager_calls
    cached_rate: float
    cached_small_rate: float
    naive_rate: float
    eager_rate: float  # extrapolated: n_naive / (H*W * eager_call_s)
    speedup: float  # cached / naive at batch n_naive
    speedup_mixed: float  # cached at n_cached / naive at n_naive
    speedup_eager: float  # cached at n_naive / eager naive at n_naive
    identical: bool
    differing_pixels: int
    retraces: int  # tf.function traces of the stepper during the timed cached runs
    limit_rate: float | None = None
    fraction_of_limit: float | None = None


# ---------------------------------------------------------------------------------------------
# Test likelihood
# ---------------------------------------------------------------------------------------------


def unigram_row(train: Stream, test: Stream) -> NllRow:
    k = len(train.palette)
    counts = np.bincount(train.indices.ravel(), minlength=k).astype(np.float64)
    p = (counts + 1.0) / (counts.sum() + k)
    bits = float(-np.log2(p[test.indices.ravel()]).mean())
    unseen = int((counts == 0).sum())
    return NllRow("unigram (train colour frequencies, add-one)", bits, k, source=f"counted on train ({len(train)} images)",
                  note=f"one count per colour; {unseen} of {k} colours never occur in train",
                  extra=dict(train_pixels=int(counts.sum()), unseen_colors=unseen))


def model_bits(model, test: Stream) -> tuple[float | None, str]:
    """Test bits/px, or None and why (a model on another palette would be scored after remapping)."""
    if not np.array_equal(model.palette, test.palette):
        return None, "the model's palette is not the data set's: not scored"
    if (model.height, model.width) != test.size:
        return None, f"the model is {model.width}x{model.height}, the data {test.size[1]}x{test.size[0]}: not scored"
    return model.evaluate_stream(test)["bits_per_pixel"], ""


def course_lstm(run_dir: Path, epochs: int, model_config: dict, stream: Stream) -> tuple[object, dict, str]:
    """The course LSTM of ``run_dir``: used as found, resumed if interrupted, else trained there.

    Returns (model, metrics.json, what happened)."""
    folder = RunFolder(run_dir)
    if folder.model_path.is_file():
        how = "found"
        state, stored = folder.state(), folder.config()
        if state is not None and stored is not None:
            done = state.get("epoch", 0)
            if done < stored.get("epochs", 0):
                log(f"{run_dir}: {done} of {stored['epochs']} epochs done; resuming")
                t0 = time.perf_counter()
                train(stream, RunConfig(**stored), run_dir, resume=True, log=log)
                how = f"resumed from epoch {done} ({time.perf_counter() - t0:.0f} s)"
    else:
        log(f"training the course LSTM in {run_dir}: {epochs} epochs, {json.dumps(model_config)}")
        t0 = time.perf_counter()
        train(stream, RunConfig(family="pixelrnn", epochs=epochs, model=dict(model_config), **COURSE_RUN), run_dir, log=log)
        how = f"trained by this run ({time.perf_counter() - t0:.0f} s)"
    try:
        metrics = folder.metrics()
    except GenkitError:  # no metrics.json
        metrics = {}
    return models.load(str(folder.model_path)), metrics, how


def course_row(model, metrics: dict, how: str, run_dir: Path, test: Stream, model_config: dict) -> NllRow:
    bits, why = model_bits(model, test)
    config = model.get_config()
    differs = {k: config.get(k) for k, v in model_config.items() if config.get(k) != v}
    if getattr(model, "family", "") != "pixelrnn":
        differs["family"] = getattr(model, "family", "?")
    epochs = metrics.get("epochs") or []
    best = metrics.get("best_epoch")
    val = metrics.get("best_val_bits_per_pixel")
    notes = [f"reference {COURSE_REFERENCE:.2f} bits/px (the homework's LSTM at its best epoch, measured elsewhere)"]
    if val is not None:
        notes.append(f"val {val:.3f} bits/px at the best epoch")
    if len(epochs) > 1:
        last = epochs[-1]
        notes.append(f"last epoch {last['epoch']}: train {last['train_bits_per_pixel']:.3f}, val {last['val_bits_per_pixel']:.3f}")
    if differs:
        notes.append(f"WARNING: not the course settings ({json.dumps(differs)})")
    if why:
        notes.append(why)
    return NllRow(
        f"course 1-D LSTM (pixelrnn above={config.get('above')} position={config.get('position')}, "
        f"embed {config.get('embed')}, hidden {config.get('hidden')}, {config.get('layers')} layer)",
        bits,
        int(model.count_params()),
        f"{best} of {len(epochs)}" if best is not None else "",
        metrics.get("train_time_s"),
        f"{shown(run_dir)} ({how})",
        "; ".join(notes),
        dict(reference_bits_per_pixel=COURSE_REFERENCE, best_val_bits_per_pixel=val, model_config=model_config,
             differs=differs, epochs=epochs, run=metrics.get("run")),
    )


def checkpoint_row(name: str, model, source: str, test: Stream) -> NllRow:
    bits, why = model_bits(model, test)
    return NllRow(name, bits, int(model.count_params()), source=source,
                  note="; ".join(x for x in (json.dumps(model.family_config(), sort_keys=True), why) if x),
                  extra=dict(family=model.family, config=model.family_config()))


def shipped_models(folder: Path) -> list[tuple[str, object | None, str]]:
    """(row name, model or None, source or why missing) for each shipped checkpoint."""
    out = []
    for name, file in CHECKPOINTS:
        path = folder / file
        if path.is_file():
            out.append((name, models.load(str(path)), shown(path)))
        else:
            out.append((name, None, f"checkpoint missing (make checkpoints): {shown(path)}"))
    return out


def stand_in_models(palette: np.ndarray, size: tuple[int, int], tmp: Path) -> list[tuple[str, object, str]]:
    """--quick: tiny untrained models, saved and loaded back the way checkpoints are."""
    import keras

    out = []
    for family, config in QUICK_MODELS.items():
        keras.utils.set_random_seed(0)
        model = models.get(family)(size[0], size[1], palette, **config)
        model.build_for_data()
        path = models.save(model, tmp / f"quick-{family}.keras", optimizer=False)
        out.append((f"quick stand-in {family} (untrained)", models.load(str(path)), f"{family} {json.dumps(config)}"))
    return out


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


def tracing_count(model) -> int:
    """Traces made so far by the model's tf.function methods (the steppers' _step, _row_step, ...)."""
    total = 0
    for name in dir(type(model)):
        attr = getattr(type(model), name, None)
        if hasattr(attr, "experimental_get_tracing_count"):
            total += getattr(model, name).experimental_get_tracing_count()
    return total


@contextlib.contextmanager
def compiled_naive(model):
    """``model.naive_logits`` as one tf.function of the whole forward pass, on this instance only."""
    import tensorflow as tf

    hw = model.height * model.width

    @tf.function(reduce_retracing=True)
    def forward(x, t):
        logits = tf.reshape(model(x, training=False), (tf.shape(x)[0], hw, model.num_colors))
        return tf.gather(logits, t, axis=1)

    def naive_logits(t, canvas):
        x = tf.constant(np.asarray(canvas, np.int32).reshape(-1, model.height, model.width))
        return forward(x, tf.constant(t, tf.int32)).numpy()

    model.naive_logits = naive_logits
    try:
        yield forward
    finally:
        del model.naive_logits


def sample_row(name: str, model, n_cached: int, n_naive: int, repeat: int, eager_calls: int) -> SampleRow:
    hw = model.height * model.width
    log(f"{name}: warm-up")
    model.generate(1, seed=0)
    model.generate(2, seed=0)  # a second batch size: reduce_retracing relaxes the batch dimension
    traces = tracing_count(model)
    log(f"{name}: cached, batch {n_cached}")
    _, cached_s = best_time(lambda: model.generate(n_cached, seed=0), repeat)
    log(f"{name}: cached, batch {n_naive}")
    cached, cached_small_s = best_time(lambda: model.generate(n_naive, seed=0), repeat)
    retraces = tracing_count(model) - traces

    log(f"{name}: naive (compiled forward), batch {n_naive}")
    with compiled_naive(model):
        model.naive_logits(0, np.zeros((n_naive, hw), np.int32))  # trace
        start = time.perf_counter()
        naive = model.generate(n_naive, seed=0, naive=True)
        naive_s = time.perf_counter() - start

    log(f"{name}: naive (eager, as genkit runs it), {eager_calls} call(s) of batch {n_naive}")
    canvas = np.zeros((n_naive, hw), np.int32)
    model.naive_logits(0, canvas)  # warm-up
    _, eager_call_s = best_time(lambda: model.naive_logits(hw // 2, canvas), eager_calls)

    weights = int(model.count_params())
    rate = lambda n, s: n / s  # noqa: E731
    cached_rate, small_rate, naive_rate = rate(n_cached, cached_s), rate(n_naive, cached_small_s), rate(n_naive, naive_s)
    eager_rate = n_naive / (hw * eager_call_s)
    return SampleRow(
        name, weights, n_cached, n_naive, cached_s, cached_small_s, naive_s, eager_call_s,
        cached_rate, small_rate, naive_rate, eager_rate,
        speedup=small_rate / naive_rate, speedup_mixed=cached_rate / naive_rate, speedup_eager=small_rate / eager_rate,
        identical=bool(np.array_equal(cached, naive)), differing_pixels=int((cached != naive).sum()), retraces=retraces,
    )


# ---------------------------------------------------------------------------------------------
# Machine limit
# ---------------------------------------------------------------------------------------------


def matmul_flops(sizes: tuple[int, ...], trials: int) -> list[dict]:
    """float32 n x n matmul FLOP/s (2 n^3 per product), best of ``trials``, TensorFlow and numpy."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    out = []
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ta, tb = tf.constant(a), tf.constant(b)
        kernels = {
            "tf.linalg.matmul": lambda: tf.linalg.matmul(ta, tb).numpy(),
            "numpy.matmul": lambda: np.matmul(a, b),
        }
        for kernel, fn in kernels.items():
            fn()  # warm-up
            _, best = best_time(fn, trials)
            out.append(dict(kernel=kernel, n=n, best_s=best, gflops=2 * n**3 / best / 1e9))
            log(f"matmul {kernel} {n}x{n}: {out[-1]['gflops']:.1f} GFLOP/s")
    return out


def add_limits(rows: list[SampleRow], flops: float, hw: int) -> None:
    for r in rows:
        r.limit_rate = flops / (2 * r.weights * hw)
        r.fraction_of_limit = r.cached_rate / r.limit_rate


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------


def target_check(nll: list[NllRow], sampling: list[SampleRow], flops: float, cores: int, quick: bool) -> dict:
    lines, out = [], {}
    caveat = " (quick run: stand-in models, not the real figures)" if quick else ""

    scored = [r for r in nll[1:] if r.bits_per_pixel is not None]  # nll[0] is the unigram
    if scored:
        best = min(scored, key=lambda r: r.bits_per_pixel)
        met, stretch = best.bits_per_pixel <= TARGET_NLL, best.bits_per_pixel <= STRETCH_NLL
        lines.append(f"Target: test NLL <= {TARGET_NLL} bits/px for the best model (stretch {STRETCH_NLL}) -> "
                     f"{verdict(met)}, stretch {'met' if stretch else 'not met'} "
                     f"(best: {best.model}, {best.bits_per_pixel:.3f} bits/px){caveat}")
        out["nll"] = dict(met=met, stretch_met=stretch, best_model=best.model, best_bits_per_pixel=best.bits_per_pixel)
    else:
        lines.append(f"Target: test NLL <= {TARGET_NLL} bits/px -> **not checked** (no model scored)")
        out["nll"] = dict(met=None)

    if not sampling:
        lines.append(f"Target: cached sampling >= {TARGET_SPEEDUP:g}x faster than naive and >= {TARGET_RATE:g} sprites/s "
                     "-> **not checked** (no checkpoint available)")
        out["speedup"] = out["rate"] = dict(met=None)
        return dict(lines=lines, **out)

    parts = [f"{r.model}: {r.cached_small_rate:.2f} vs {r.naive_rate:.3f} sprites/s at batch {r.n_naive} = "
             f"{r.speedup:.1f}x {'(met)' if r.speedup >= TARGET_SPEEDUP else '(not met)'}; "
             f"vs genkit's eager naive ~{r.speedup_eager:.0f}x" for r in sampling]
    met = all(r.speedup >= TARGET_SPEEDUP for r in sampling)
    lines.append(f"Target: cached sampling >= {TARGET_SPEEDUP:g}x faster than naive (same batch, naive with a compiled "
                 f"forward) -> {verdict(met)} ({'; '.join(parts)}){caveat}")
    out["speedup"] = dict(met=met, per_model={r.model: r.speedup for r in sampling})

    parts = []
    for r in sampling:
        part = (f"{r.model}: {r.cached_rate:.1f} sprites/s at batch {r.n_cached} "
                f"{'(met)' if r.cached_rate >= TARGET_RATE else '(not met)'}, machine limit {r.limit_rate:.0f} sprites/s "
                f"= {flops / 1e9:.1f} GFLOP/s / (2 x {r.weights:,} weights x 400 px)")
        if TARGET_RATE > r.limit_rate:
            part += f" -- {TARGET_RATE:g} sprites/s exceeds this machine's limit for the model by {TARGET_RATE / r.limit_rate:.1f}x"
        parts.append(part)
    met = all(r.cached_rate >= TARGET_RATE for r in sampling)
    where = f"{cores} CPU cores" + ("" if cores == TARGET_CORES else f", not the target's {TARGET_CORES}")
    lines.append(f"Target: >= {TARGET_RATE:g} sprites/s on {TARGET_CORES} CPU cores ({where} here) -> "
                 f"{verdict(met)} ({'; '.join(parts)}){caveat}")
    out["rate"] = dict(met=met, per_model={r.model: r.cached_rate for r in sampling},
                       limit_exceeded={r.model: TARGET_RATE > r.limit_rate for r in sampling})
    return dict(lines=lines, **out)


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def metadata(run: Run, test: Stream, train_s: Stream, settings: dict, quick: bool) -> dict:
    return run.meta(
        quick=quick,
        data=f"datasets.load({DATASET!r}): test {len(test)} images, train {len(train_s)}, "
        f"{test.size[1]}x{test.size[0]}, {len(test.palette)} colours",
        settings=settings,
    )


def markdown(meta: dict, nll: list[NllRow], sampling: list[SampleRow], missing: list[str], mm: list[dict],
             flops: float, target: dict) -> str:
    s = meta["settings"]
    head = [
        "# Pixel model benchmark" + (" (QUICK: stand-in models, for debugging only)" if meta["quick"] else ""),
        "",
        *meta_lines(meta),
        f"- data: {meta['data']}; the fixed split (test = Pokedex number divisible by 10); one palette for every row",
        "",
        "## Test likelihood",
        "",
        "| model | test bits/px | params | best epoch | train time s | source | note |",
        "|---|---:|---:|---|---:|---|---|",
    ]
    body = [
        f"| {r.model} | {fmt(r.bits_per_pixel, 3)} | {'—' if r.params is None else f'{r.params:,}'} | {r.best_epoch or '—'} | "
        f"{fmt(r.train_time_s, 0)} | {r.source} | {r.note} |"
        for r in nll
    ]
    n_c, n_n = s["n_cached"], s["n_naive"]
    samp = [
        "",
        "## Sampling (20x20 sprites per second, seed 0, temperature 1)",
        "",
        f"Cached: `generate(n, seed=0)`, best of {s['repeat']} after warm-up calls at batch 1 and 2. "
        f"Naive: `generate({n_n}, seed=0, naive=True)`, one run, with `naive_logits` replaced (for that run) by the "
        "same forward pass in one `tf.function`; genkit's own `naive_logits` runs the model eagerly, and its rate is "
        f"extrapolated from {s['eager_calls']} timed call(s) (400 calls a batch). Speed-up = cached / naive at batch {n_n}. "
        f"Identical: the cached and naive samples of batch {n_n}, seed 0. The limit is the matmul FLOP/s below over "
        "2 x weights FLOPs per pixel x 400 pixels.",
        "",
        f"| model | weights | cached batch {n_c} | cached batch {n_n} | naive batch {n_n} | speed-up | "
        f"cached {n_c} / naive {n_n} | genkit eager naive (extrap.) | identical | limit | cached / limit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    samp += [
        f"| {r.model} | {r.weights:,} | {r.cached_rate:.2f} | {r.cached_small_rate:.2f} | {r.naive_rate:.3f} | "
        f"{r.speedup:.1f}x | {r.speedup_mixed:.1f}x | {r.eager_rate:.4f} | "
        f"{'yes' if r.identical else f'no ({r.differing_pixels} of {r.n_naive * 400} pixels differ)'} | "
        f"{r.limit_rate:.1f} | {100 * r.fraction_of_limit:.1f}% |"
        for r in sampling
    ]
    samp += [f"| {m} | | | | | | | | | | checkpoint missing (make checkpoints) |" for m in missing]
    retraced = [f"{r.model} ({r.retraces})" for r in sampling if r.retraces]
    if retraced:
        samp += ["", f"Note: the timed cached runs traced tf.functions again: {', '.join(retraced)}."]
    limit = [
        "",
        "## Machine limit (float32 matmul, best of "
        f"{s['trials']})",
        "",
        "| kernel | size | best s | GFLOP/s |",
        "|---|---:|---:|---:|",
    ]
    limit += [f"| {m['kernel']} | {m['n']}x{m['n']} | {m['best_s']:.4f} | {m['gflops']:.1f} |" for m in mm]
    limit += ["", f"Machine limit: {flops / 1e9:.1f} GFLOP/s (the best row). FLOPs per pixel ≈ 2 x weights: one "
              "multiply-add per weight per pixel, embedding tables counted although they are lookups.",
              "The load average above includes any other job on the machine: every time here is under that load."]
    return "\n".join(head + body + samp + limit + ["", "## Targets", ""] + [f"- {x}" for x in target["lines"]] + [""])


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoints", type=Path, default=models.CHECKPOINT_DIR,
                    help="folder of pokemon-pixelrnn.keras / pokemon-pixelcnn.keras (default: checkpoints/ or $GENKIT_CHECKPOINTS)")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for pixel.md/.json (default bench/results; with --quick, nothing is written unless given)")
    ap.add_argument("--course-run", type=Path, default=ROOT / "runs" / "bench-course-lstm",
                    help="run folder of the course LSTM: used if it holds model.keras, else trained there")
    ap.add_argument("--course-epochs", type=int, default=None, help=f"epochs if the course LSTM is trained (default {COURSE_EPOCHS}; --quick 1)")
    ap.add_argument("--n-cached", type=int, default=None, help=f"cached batch (default {FULL['n_cached']})")
    ap.add_argument("--n-naive", type=int, default=None, help=f"naive batch (default {FULL['n_naive']})")
    ap.add_argument("--repeat", type=int, default=None, help=f"cached timing runs, the best counts (default {FULL['repeat']})")
    ap.add_argument("--eager-calls", type=int, default=None, help=f"timed eager naive_logits calls (default {FULL['eager_calls']})")
    ap.add_argument("--trials", type=int, default=None, help=f"matmul timing runs, the best counts (default {FULL['trials']})")
    ap.add_argument("--quick", action="store_true",
                    help="debugging: tiny untrained stand-ins, a 1-epoch tiny course LSTM in a temporary folder, small sizes")
    args = ap.parse_args(argv)
    base = QUICK if args.quick else FULL
    settings = {k: (getattr(args, k) if getattr(args, k, None) is not None else v) for k, v in base.items()}
    settings["sizes"] = list(settings["sizes"])
    course_epochs = args.course_epochs if args.course_epochs is not None else (1 if args.quick else COURSE_EPOCHS)
    for key in ("n_cached", "n_naive", "repeat", "eager_calls", "trials"):
        if settings[key] < 1:
            ap.error(f"--{key.replace('_', '-')} must be at least 1")
    if course_epochs < 1:
        ap.error("--course-epochs must be at least 1")
    out_dir = out_folder(args.out, args.quick)
    settings.update(course_epochs=course_epochs, course_model=QUICK_COURSE if args.quick else COURSE_MODEL,
                    course_run={"family": "pixelrnn", "epochs": course_epochs, **COURSE_RUN})
    run = Run(__file__, argv)

    stream = datasets.load(DATASET)
    train_s, test = datasets.load(DATASET, split="train"), datasets.load(DATASET, split="test")
    hw = test.size[0] * test.size[1]

    with tempfile.TemporaryDirectory(prefix="genkit-bench-pixel-") as tmp:
        tmp = Path(tmp)
        nll = [unigram_row(train_s, test)]
        course_dir = tmp / "course-lstm" if args.quick else args.course_run
        course, metrics, how = course_lstm(course_dir, course_epochs, settings["course_model"], stream)
        row = course_row(course, metrics, how, course_dir, test, settings["course_model"])
        if args.quick:
            row.source = f"temporary folder ({how}; --quick: tiny, 1 epoch)"
        nll.append(row)
        del course

        found = stand_in_models(test.palette, test.size, tmp) if args.quick else shipped_models(args.checkpoints)
        available, missing = [], []
        for name, model, source in found:
            if model is None:
                nll.append(NllRow(name, source=source.split(": ", 1)[1], note="checkpoint missing (make checkpoints)"))
                missing.append(name)
            else:
                log(f"{name}: test likelihood")
                nll.append(checkpoint_row(name, model, source, test))
                available.append((name, model))

        sampling = [sample_row(name, model, settings["n_cached"], settings["n_naive"], settings["repeat"],
                               settings["eager_calls"]) for name, model in available]

    mm = matmul_flops(tuple(settings["sizes"]), settings["trials"])
    flops = max(m["gflops"] for m in mm) * 1e9
    add_limits(sampling, flops, hw)
    target = target_check(nll, sampling, flops, os.cpu_count() or 1, args.quick)

    meta = metadata(run, test, train_s, settings, args.quick)
    text = markdown(meta, nll, sampling, missing, mm, flops, target)
    report = dict(meta=meta, nll=[asdict(r) for r in nll], sampling=[asdict(r) for r in sampling], missing=missing,
                  matmul=mm, machine_limit_flops=flops,
                  flops_per_pixel="2 x weights (one multiply-add per weight per pixel; embedding tables counted)",
                  target=target)
    publish(out_dir, "pixel", text, report, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
