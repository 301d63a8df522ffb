"""What every benchmark script shares: the run's metadata (machine, date, versions, load average),
verdicts and number formats, the training facts of a run folder, and writing a report (a
Markdown table and its JSON twin, atomically, to ``bench/results/`` unless told otherwise).

A script puts the repository on ``sys.path`` (so that ``python bench/NAME.py`` needs no
PYTHONPATH) and imports from here::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.common import Run, write_report
"""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from genkit.errors import GenkitError
from genkit.io import write_file_atomic
from genkit.runs import RunFolder

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def logger(name: str) -> Callable[[str], None]:
    """A log function writing ``[name] message`` lines to stderr."""

    def log(msg: str) -> None:
        print(f"[{name}] {msg}", file=sys.stderr, flush=True)

    return log


def shown(path: str | os.PathLike) -> str:
    """A path relative to the repository if it is inside it, else absolute (a link inside the
    repository is shown as the link, not as where it points)."""
    path = Path(os.path.abspath(path))
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, or None where the system has none."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def fmt_load(values: list[float] | None, digits: int = 2, sep: str = " ", first: int = 3) -> str:
    """The ``first`` load averages as text: ``1.60 3.12 3.77``."""
    return "unknown" if values is None else sep.join(f"{v:.{digits}f}" for v in values[:first])


def fmt(value, digits: int = 2) -> str:
    """A number to ``digits`` decimals, or a dash for None and NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def verdict(ok: bool) -> str:
    """A target's verdict as the tables print it."""
    return "**met**" if ok else "**not met**"


class Run:
    """One benchmark run: its command line, and the time and load average at its start, which
    its report's metadata records beside those at the end."""

    def __init__(self, script: str, argv: list[str]):
        self.command = shlex.join(["python", os.path.relpath(Path(script).resolve(), ROOT), *argv])
        self.started = time.time()
        self.load_start = load_average()

    def meta(self, **extra) -> dict:
        """date (UTC), machine, cpu, cores, load average at start and end, the versions of Python,
        numpy and (where the script imported them) TensorFlow and Keras, the command, the wall
        time in seconds; then ``extra``."""
        versions = {"python": platform.python_version()}
        for module in ("numpy", "tensorflow", "keras"):
            if module in sys.modules:
                versions[module] = sys.modules[module].__version__
        return dict(
            date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            machine=f"{cpu_name()} ({platform.processor() or platform.machine()}), {os.cpu_count()} CPUs, {platform.system()}",
            cpu=cpu_name(), cores=os.cpu_count(),
            load_average=dict(start=self.load_start, end=load_average()),
            **versions, command=self.command, wall_s=round(time.time() - self.started, 1), **extra,
        )


def best_time(fn: Callable[[], object], repeat: int) -> tuple[object, float]:
    """fn's last result and its best wall time in seconds over ``repeat`` calls."""
    out, best = None, math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def meta_lines(meta: dict) -> list[str]:
    """The list that opens a report: date, machine with the load average at start and end,
    versions (Python, numpy, TensorFlow, Keras), command."""
    return [
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}; load average (1/5/15 min) at start {fmt_load(meta['load_average']['start'])}, "
        f"at end {fmt_load(meta['load_average']['end'])}",
        f"- versions: Python {meta['python']}, numpy {meta['numpy']}, TensorFlow {meta['tensorflow']}, Keras {meta['keras']}",
        f"- command: `{meta['command']}`",
    ]


def out_folder(out: str | os.PathLike | None, quick: bool) -> Path | None:
    """Where a report goes: ``out`` if given, else bench/results, except for a --quick run (None)."""
    if out is not None:
        return Path(out)
    return None if quick else RESULTS


def write_report(folder: Path, name: str, text: str, report: dict, log: Callable[[str], None] | None = None) -> None:
    """``folder/name.md`` (the text) and ``folder/name.json`` (the report), each written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    write_file_atomic(folder / f"{name}.md", text.encode())
    write_file_atomic(folder / f"{name}.json", (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())
    if log is not None:
        log(f"wrote {shown(folder / name)}.md and .json")


def publish(folder: Path | None, name: str, text: str, report: dict, log: Callable[[str], None]) -> None:
    """Write the report (see :func:`write_report`) unless ``folder`` is None (a --quick run
    without --out), then print its text."""
    if folder is not None:
        write_report(folder, name, text, report, log)
    else:
        log("--quick without --out: nothing written")
    print(text)


def training(*places: str | os.PathLike | None) -> dict:
    """What the first of ``places`` that holds a finished run (a run folder, or its metrics.json)
    says of its training: epochs, best epoch, time, weights and run settings; {} if none does."""
    for place in places:
        if place is None:
            continue
        place = Path(place)
        folder = RunFolder(place.parent if place.suffix == ".json" else place)
        try:
            m = folder.metrics()
        except GenkitError:
            continue
        return {"epochs": len(m["epochs"]), "best_epoch": m["best_epoch"], "train_time_s": m["train_time_s"],
                "params": m["params"], "run": m["run"], "metrics": shown(folder.path / "metrics.json")}
    return {}
