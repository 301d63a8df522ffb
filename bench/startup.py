"""Benchmark: a command's fixed cost -- whole-process wall time against ``import tensorflow``, and where it goes.

1. **Whole process**: the wall time of each command (``gk-sample pixelcnn -n 16``, ``gk-sample
   pixelrnn -n 16``, ``gk-complete pixelcnn`` on 4 test sprites with ``-k 1``), each writing a PNG
   to a temporary folder, against ``python -c "import tensorflow"``; the runs are interleaved
   (baseline, command, command, ..., ``--repeat`` rounds) and the best of each counts. The ratio
   command / baseline is the issue's measure of fixed cost (target <= 1.25 for gk-sample pixelcnn).
   The commands use the user's caches (genkit.models.compiled: XLA's compiled code and each
   checkpoint's compiled sampler), filled by an untimed warm-up run of each; one more run of each
   with an empty cache (``GENKIT_CACHE`` pointed at a new folder) shows the cost of a first use.
   Two more rows run the target command with ``GENKIT_COMPILED=0`` (the Keras model built from
   its checkpoint and the loop traced in every process, as before the compiled samplers) and
   with ``GENKIT_QUICK_EXIT=0`` (the interpreter's teardown kept: the commands otherwise end
   with os._exit once their output is flushed, cli.common.leave). A second baseline,
   ``python -c "import tensorflow, os; os._exit(0)"``, is the import alone without teardown: the
   stricter yardstick for commands that skip theirs.
2. **Breakdown**, in a fresh process per run (best of ``--repeat``): *import* (the command's module,
   genkit's model family, TensorFlow and Keras), *load* (``genkit.models.load_sampler``, as the
   commands load: the compiled sampler, or the Keras model), *first call*
   (the command's library call: tracing, XLA compile or cache read, and the work) and *work* (the
   same call again in the same process); first call - work is the per-process cost of compiling.

Results go to ``<out>/startup.md`` and ``<out>/startup.json``. The times are wall times of a
shared machine: the report gives the load average at start and end.

    python bench/startup.py [--repeat 3] [--out bench/results]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/startup.py` works without PYTHONPATH

from bench.common import ROOT, Run, logger, meta_lines, write_report  # noqa: E402

BIN = Path(sys.executable).parent
BASELINE = ("python -c 'import tensorflow'", [sys.executable, "-c", "import tensorflow"])
#: the same without the interpreter's teardown: what importing TensorFlow alone costs
BARE = ("python -c 'import tensorflow, os; os._exit(0)'", [sys.executable, "-c", "import tensorflow, os; os._exit(0)"])
TARGET_RATIO = 1.25
TARGET_COMMAND = "gk-sample pixelcnn -n 16"

#: phase timer run in a child process: prints one JSON line {import, load, first, work} in seconds
PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
kind, name, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
import cli.sample, cli.complete  # noqa: F401  (the commands' own imports: typer, rich, genkit)
from genkit import models
models.get(models.family_of(models.resolve(name)))  # the family's module: TensorFlow and Keras
t1 = time.perf_counter()
net = models.load_sampler(name)
t2 = time.perf_counter()
if kind == "sample":
    call = lambda: net.sample_stream(16, seed=0)
else:
    from genkit.io import read_stream
    stream = read_stream(extra)
    call = lambda: net.complete_stream(stream, keep=0.5, k=1, seed=0)
call()
t3 = time.perf_counter()
call()
t4 = time.perf_counter()
print(json.dumps(dict(imports=t1 - t0, load=t2 - t1, first_call=t3 - t2, work=t4 - t3, loaded=type(net).__name__)))
"""

log = logger("startup")


KERAS = {"GENKIT_COMPILED": "0"}  # the Keras model in every process: no compiled sampler


def env(cache: str | None = None, extra: dict | None = None) -> dict:
    out = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", **(extra or {}))
    if cache is not None:
        out["GENKIT_CACHE"] = cache
    return out


def cold_cell(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f}"


def wall(argv: list[str], environ: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"startup: {' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return took


def commands(tmp: Path) -> list[tuple[str, list[str], tuple, dict]]:
    """(shown command, argv, phase-timer arguments, environment) of each timed command."""
    from genkit import datasets
    from genkit.io import write_stream

    sprites = tmp / "sprites.npz"
    write_stream(datasets.load("pokemon", split="test").select(slice(0, 4)), str(sprites), "npz")
    png = str(tmp / "out.png")
    target = [str(BIN / "gk-sample"), "pixelcnn", "-n", "16", "-o", png]
    return [
        (TARGET_COMMAND, target, ("sample", "pixelcnn"), {}),
        ("gk-sample pixelrnn -n 16", [str(BIN / "gk-sample"), "pixelrnn", "-n", "16", "-o", png], ("sample", "pixelrnn"), {}),
        ("gk-complete pixelcnn (4 sprites, -k 1)",
         [str(BIN / "gk-complete"), "pixelcnn", str(sprites), "-k", "1", "-o", png], ("complete", "pixelcnn", str(sprites)), {}),
        (f"{TARGET_COMMAND}, GENKIT_COMPILED=0 (Keras model)", target, ("sample", "pixelcnn"), KERAS),
        (f"{TARGET_COMMAND}, GENKIT_QUICK_EXIT=0 (with the teardown)", target, None, {"GENKIT_QUICK_EXIT": "0"}),
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the best of each counts (default 3)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for startup.md/.json")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    run = Run(__file__, argv)
    with tempfile.TemporaryDirectory(prefix="genkit-bench-startup-") as tmp:
        tmp = Path(tmp)
        cmds = commands(tmp)
        for shown_cmd, cmd, _, extra in cmds:  # fill the user's caches, untimed
            log(f"warm-up: {shown_cmd}")
            wall(cmd, env(extra=extra))
        whole = {BASELINE[0]: [], BARE[0]: []} | {c[0]: [] for c in cmds}
        for r in range(args.repeat):
            log(f"round {r + 1} of {args.repeat}")
            whole[BASELINE[0]].append(wall(BASELINE[1], env()))
            whole[BARE[0]].append(wall(BARE[1], env()))
            for shown_cmd, cmd, _, extra in cmds:
                whole[shown_cmd].append(wall(cmd, env(extra=extra)))
        cold = {}
        for shown_cmd, cmd, _, extra in cmds:
            log(f"empty cache: {shown_cmd}")
            cold[shown_cmd] = wall(cmd, env(str(tmp / f"cache-{len(cold)}"), extra))
        phases = {}
        for shown_cmd, _, timer, extra in cmds:
            if timer is None:  # the same work as another row: only the process's end differs
                continue
            runs = []
            for r in range(args.repeat):
                log(f"breakdown {r + 1} of {args.repeat}: {shown_cmd}")
                done = subprocess.run([sys.executable, "-c", PHASES, *timer], env=env(extra=extra), capture_output=True,
                                      text=True, check=True)
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            phases[shown_cmd] = {k: min(x[k] for x in runs) if k != "loaded" else runs[0][k] for k in runs[0]}
    import keras  # noqa: F401  (the report gives its version and TensorFlow's)

    base, bare = min(whole[BASELINE[0]]), min(whole[BARE[0]])
    rows = [dict(command=c, best_s=min(t), times_s=t, ratio=min(t) / base, ratio_bare=min(t) / bare, cold_s=cold.get(c),
                 **phases.get(c, {}))
            for c, t in whole.items()]
    target = next(r for r in rows if r["command"] == TARGET_COMMAND)
    met = target["ratio"] <= TARGET_RATIO
    meta = run.meta(repeat=args.repeat)
    lines = [
        "# Start-up benchmark",
        "",
        *meta_lines(meta),
        "",
        f"## Whole process (wall s, best of {args.repeat}, interleaved)",
        "",
        "Each command writes a PNG to a temporary folder. Cache: the user's caches (XLA's compiled code and the "
        "checkpoint's compiled sampler, genkit.models.compiled), filled by a warm-up run; *empty cache*: one run with "
        "GENKIT_CACHE pointed at a new folder (a first use: the compile and the writing of the sampler count). "
        "GENKIT_COMPILED=0: the Keras model built and the loop traced in every process (the XLA cache still used).",
        "",
        "| command | best s | runs s | / import tensorflow | / import without teardown | empty cache s |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| `{r['command']}` | {r['best_s']:.2f} | {', '.join(f'{t:.2f}' for t in r['times_s'])} | "
                     f"{r['ratio']:.2f}x | {r['ratio_bare']:.2f}x | {cold_cell(r['cold_s'])} |")
    lines += [
        "",
        f"## Breakdown (s, in one process, best of {args.repeat} fresh processes)",
        "",
        "import: the command's modules, the model family, TensorFlow and Keras; load: genkit.models.load_sampler (what "
        "it gave in the last column); first call: "
        "the library call the command makes (sample_stream(16) / complete_stream(k=1)); work: the same call again. "
        "first call - work: tracing and compiling (or reading the compilation cache).",
        "",
        "| command | import | load | first call | work | first call - work | loaded |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if "imports" not in r:
            continue
        lines.append(f"| `{r['command']}` | {r['imports']:.2f} | {r['load']:.2f} | {r['first_call']:.2f} | {r['work']:.2f} | "
                     f"{r['first_call'] - r['work']:.2f} | {r['loaded']} |")
    lines += ["", "## Target", "",
              f"- `{TARGET_COMMAND}` / `import tensorflow` <= {TARGET_RATIO} -> {'**met**' if met else '**not met**'} "
              f"({target['best_s']:.2f} s / {base:.2f} s = {target['ratio']:.2f}x)",
              f"- Stricter, against importing TensorFlow without the interpreter's teardown (the commands skip theirs, "
              f"cli.common.leave): {target['best_s']:.2f} s / {bare:.2f} s = {target['ratio_bare']:.2f}x",
              "- The load average above includes any other job on the machine: every time here is under that load.", ""]
    text = "\n".join(lines)
    write_report(args.out, "startup", text, dict(meta=meta, baseline_s=base, bare_baseline_s=bare, rows=rows,
                                                 target=dict(command=TARGET_COMMAND, ratio=target["ratio"], limit=TARGET_RATIO,
                                                             met=met)), log)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
