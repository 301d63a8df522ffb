"""Fuzzed files: every reader and command survives mutated PNG, JPEG, GIF, BMP, WebP, NPZ and
.keras files, ending in exit 0 or 2 with one stderr line, no traceback and no partial output.

Seeded; ``FUZZ_CASES`` mutations (300 in CI, thousands via ``make fuzz``) run in-process, so
TensorFlow starts once. Fuzzed ``.keras`` files (HDF5 inside a zip, which could crash the
interpreter) load in a child process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fuzzing import cases
from genkit import io as gio
from genkit.errors import GenkitError

ROOT = Path(__file__).resolve().parent.parent
N = int(os.environ.get("FUZZ_CASES", "300"))
KERAS_N = int(os.environ.get("FUZZ_KERAS_CASES", "12"))


@pytest.fixture(scope="module")
def fuzz(data_dir):
    sprites = sorted((data_dir / "pokemon" / "sprites").glob("0[0-2]*.png"))
    return cases(sprites, N, seed=int(os.environ.get("FUZZ_SEED", "0")))


def test_the_readers_refuse_or_read_every_case(fuzz):
    crashes = []
    for what, data in fuzz:
        try:
            stream = gio.decode(data)
            stream.rgb()  # what every command does next
        except GenkitError as e:
            assert "\n" not in str(e), what
        except Exception as e:  # noqa: BLE001 - a crash is what we look for
            crashes.append(f"{what}: {type(e).__name__}: {e}")
    assert not crashes, f"{len(crashes)} of {len(fuzz)} cases crashed:\n" + "\n".join(crashes[:20])


def test_gk_quantize_ends_in_0_or_2_with_one_line_and_no_partial_output(fuzz, tmp_path):
    from cli import quantize

    runner = CliRunner()
    src, out = tmp_path / "in.bin", tmp_path / "out.npz"
    for what, data in fuzz[:: max(1, len(fuzz) // 60)]:
        src.write_bytes(data)
        if out.exists():
            out.unlink()
        result = runner.invoke(quantize.app, [str(src), "--colors", "4", "-o", str(out)])
        assert result.exit_code in (0, 2), f"{what}: exit {result.exit_code}\n{result.output}"
        if result.exit_code == 2:
            assert len(result.stderr.strip().splitlines()) == 1, f"{what}: {result.stderr}"
            assert not out.exists() and not list(tmp_path.glob(".out.npz.*")), what


def test_gk_eval_on_fuzzed_streams_ends_in_0_or_2(fuzz, tmp_path):
    from cli import eval as evaluate

    runner = CliRunner()
    src = tmp_path / "in.bin"
    for what, data in fuzz[:: max(1, len(fuzz) // 8)]:
        src.write_bytes(data)
        result = runner.invoke(evaluate.app, ["pixelcnn", str(src)])
        assert result.exit_code in (0, 2), f"{what}: exit {result.exit_code}\n{result.output}"
        if result.exit_code == 2:
            assert len(result.stderr.strip().splitlines()) == 1, f"{what}: {result.stderr}"


KERAS_CHILD = r"""
import json, sys
from genkit import models
from genkit.errors import GenkitError
out = []
for path in sys.argv[1:]:
    try:
        model = models.load(path)
        out.append("loaded")
    except GenkitError as e:
        out.append("refused" if "\n" not in str(e) else "refused, several lines")
    except Exception as e:
        out.append(f"crash {type(e).__name__}: {e}")
print(json.dumps(out))
"""


def test_fuzzed_keras_files_are_refused_in_one_line_or_load(tmp_path):
    import numpy as np

    from fuzzing import mutations

    base = (ROOT / "checkpoints" / "pokemon-pixelcnn.keras").read_bytes()
    rng = np.random.default_rng(int(os.environ.get("FUZZ_SEED", "0")))
    paths = []
    for i, (what, data) in enumerate(mutations(base, rng, KERAS_N, "keras")):
        path = tmp_path / f"case{i}.keras"
        path.write_bytes(data)
        paths.append((what, path))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", KERAS_CHILD, *map(str, (p for _, p in paths))], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"the child died (exit {done.returncode}): {done.stderr[-2000:]}"
    results = json.loads(done.stdout.strip().splitlines()[-1])
    bad = [f"{what}: {r}" for (what, _), r in zip(paths, results) if r not in ("loaded", "refused")]
    assert not bad, "\n".join(bad)
