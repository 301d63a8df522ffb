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


@pytest.mark.slow
def test_a_command_that_ends_quickly_leaves_its_output_whole(tmp_path):
    """The commands end without the interpreter's teardown (cli.common.leave): stdout is
    flushed first and the exit status holds."""
    import numpy as np

    script = BIN / "gk-sample"
    if not script.exists():
        pytest.skip("gk-sample is not installed in this environment")
    from test_compiled import checkpoint

    path = checkpoint(tmp_path, "pixelrnn")
    outputs = []
    for quick in ("1", "0"):
        env = dict(__import__("os").environ, GENKIT_QUICK_EXIT=quick, GENKIT_CACHE=str(tmp_path / "cache"))
        done = subprocess.run([str(script), str(path), "-n", "300", "-f", "npz"], cwd=tmp_path, capture_output=True,
                              timeout=300, env=env)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0]) > 1000  # the same whole stream either way
    from genkit import io as gio

    assert gio.decode(outputs[0]).indices.shape == (300, 5, 4) and np.all(gio.decode(outputs[0]).indices < 6)
    bad = subprocess.run([str(script), str(path), "--temperature", "-1"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and bad.stderr.startswith("gk-sample: ")


def test_leave_exits_with_the_code():
    from cli.common import leave

    with pytest.raises(SystemExit) as e:
        leave(3, quick=False)
    assert e.value.code == 3


def test_the_training_bar_speaks_each_familys_units():
    # A pixel model's loss is nats a pixel (bits/px on the bar); a sentence model's is nats a
    # sentence, which the bar once mislabelled bits/px.
    from genkit.models.base import PaletteImageModel
    from genkit.models.sentence_vae.model import SentenceVAE
    from genkit.progress import batch_status

    pixel = batch_status({"loss": 2 * 0.6931471805599453}, lambda logs: PaletteImageModel.report(None, logs))
    assert pixel == "loss 1.3863  bits/px 2.000"
    sentence = SentenceVAE.__new__(SentenceVAE)
    sentence.latent = 16
    logs = {"loss": 150.0, "rec": 140.0, "kl": 6.0, "kl_weight": 0.5, "tokens": 22.0}
    status = batch_status(logs, sentence.report)
    assert "bits/px" not in status and status.startswith("loss 150.0000  nelbo 146.000  rec 140.000  kl 6.000")
    assert batch_status({"loss": 1.0}, sentence.report) == "loss 1.0000"  # figures missing: the loss alone
    assert batch_status({}, sentence.report) == ""
