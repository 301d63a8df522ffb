"""stderr belongs to the user: each command, run as a real process on bad input, prints exactly
one line (no TensorFlow start-up noise, no traceback) and exits with code 2."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

CASES = [
    ("gk-quantize", ["/no/such.png"]),
    ("gk-train", ["pixelcnn", "--data", "/no/such.npz", "--epochs", "1"]),
    ("gk-sample", ["pixelcnn", "-n", "0"]),
    ("gk-complete", ["pixelcnn", "/no/such.png"]),
    ("gk-interp", ["vae", "/no/a.png", "/no/b.png"]),
    ("gk-eval", ["pixelcnn", "nosuch.npz"]),
    ("gk-eval", ["pixelcnn", "--no-such-option"]),
]


@pytest.mark.slow
@pytest.mark.parametrize("command, args", CASES, ids=[f"{c} {' '.join(a)}" for c, a in CASES])
def test_a_failing_command_prints_one_line(command, args, tmp_path):
    script = BIN / command
    if not script.exists():
        pytest.skip(f"{command} is not installed in this environment")
    done = subprocess.run([str(script), *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{command}: "), done.stderr
    assert done.stdout == ""
