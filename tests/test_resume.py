"""A run survives being killed: gk-train killed (SIGKILL) in the middle of a run, then stopped by
Ctrl-C and by SIGTERM after resuming, and finished by one more --resume, ends with the weights
and per-epoch losses of an uninterrupted run with the same seed (dropout on, so the random state
must come back too). A run folder is never clobbered or mixed up by mistake, nor used by two
runs at once; a resumed run keeps its options but those given again; a failed write (a full
disk) stops the run at its last whole epoch; GENKIT_QUICK trains one epoch a leg."""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import train as train_cli
from genkit import io as gio

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 8
TINY = ["--set", "embed=4", "--set", "channels=4", "--set", "layers=2", "--set", "head=8", "--set", "dropout=0.3"]
WAIT = 600  # seconds any one process may take; the test uses about 85 s of CPU in all


def tiny_stream(n=400, seed=0):
    rng = np.random.default_rng(seed)
    idx = np.zeros((n, 4, 3), np.uint8)
    idx[:, :, 1] = rng.integers(0, 4, (n, 4))  # a stripe to learn
    idx[:, 0, 0] = rng.integers(0, 4, n)
    return gio.Stream(indices=idx, palette=(np.arange(4)[:, None] * 85 * np.ones(3)).astype(np.uint8))


def command(data, out, *extra):
    return [sys.executable, "-m", "cli.train", "pixelcnn", "--data", str(data), *TINY, "--epochs", str(EPOCHS),
            "-b", "8", "--seed", "3", "--strategy", "default", "-q", "-o", str(out), *extra]


def start(cmd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def epoch_of(out: Path) -> int:
    try:
        return json.loads((out / "state.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def stop_after(cmd, out: Path, epoch: int, sig: int):
    """Run ``cmd`` until the run folder holds ``epoch`` (and a little more), then send ``sig``."""
    proc = start(cmd)
    deadline = time.time() + WAIT
    while epoch_of(out) < epoch:
        assert proc.poll() is None, f"ended before epoch {epoch}: {proc.communicate()[1][-2000:]}"
        assert time.time() < deadline, "no progress"
        time.sleep(0.02)
    time.sleep(0.1)  # into the next epoch's steps
    assert proc.poll() is None, "finished before it could be stopped"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=WAIT)
    return proc.returncode, [line for line in err.splitlines() if line.startswith("gk-train:")]


def weights(path: Path):
    from genkit import models

    return [np.asarray(w) for w in models.load(str(path)).get_weights()]


def losses(out: Path):
    return [v for r in json.loads((out / "metrics.json").read_text())["epochs"] for v in (r["epoch"], r["train_loss"], r["val_loss"])]


@pytest.mark.slow  # four gk-train processes, two at a time
def test_killed_interrupted_and_resumed_run_ends_like_an_uninterrupted_one(tmp_path):
    data = tmp_path / "tiny.npz"
    data.write_bytes(tiny_stream().to_npz())
    ref_dir, run_dir = tmp_path / "ref", tmp_path / "run"
    reference = start(command(data, ref_dir))  # in parallel with the interrupted runs

    code, lines = stop_after(command(data, run_dir), run_dir, 1, signal.SIGKILL)
    assert code == -signal.SIGKILL and lines == []
    killed_at = epoch_of(run_dir)
    assert 1 <= killed_at < EPOCHS

    for sig, exit_code, word in ((signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped by SIGTERM")):
        before = epoch_of(run_dir)
        code, lines = stop_after(command(data, run_dir, "--resume"), run_dir, before + 1, sig)
        kept = epoch_of(run_dir)
        assert code == exit_code, lines
        assert len(lines) == 1 and lines[0].startswith(f"gk-train: {word} in epoch {kept + 1}/{EPOCHS}; "), lines
        assert f"keeps epoch {kept}: go on with --resume" in lines[0]
        assert before < kept < EPOCHS and not (run_dir / ".pending").exists()

    done = subprocess.run(command(data, run_dir, "--resume"), cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(run_dir / "model.keras")
    out, err = reference.communicate(timeout=WAIT)
    assert reference.returncode == 0, err[-2000:]

    assert losses(run_dir) == pytest.approx(losses(ref_dir), abs=1e-6)
    assert losses(run_dir)[::3] == list(range(1, EPOCHS + 1))
    for name in ("last.keras", "model.keras"):
        for a, b in zip(weights(run_dir / name), weights(ref_dir / name)):
            np.testing.assert_allclose(a, b, atol=1e-6)
    state, ref_state = (json.loads((d / "state.json").read_text()) for d in (run_dir, ref_dir))
    assert state["rng"] == ref_state["rng"] and state["epoch"] == EPOCHS


runner = CliRunner()


@pytest.fixture
def run_folder(tmp_path):
    """A run folder as gk-train leaves it (its files stand in: nothing here gets that far)."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "state.json").write_text(json.dumps({"family": "pixelcnn", "epoch": 2, "best_val_loss": 1.0,
                                                "model": {}, "history": []}))
    for name in ("last.keras", "model.keras", "metrics.json", "config.json"):
        (out / name).write_bytes(name.encode())
    return out


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "args, msg",
    [
        (["pixelcnn"], "holds a pixelcnn run already (2 epochs done): continue it with --resume, or choose another -o DIR"),
        (["pixelrnn", "--resume"], "holds a pixelcnn run, not pixelrnn"),
        (["pixelrnn"], "holds a pixelcnn run, not pixelrnn"),
    ],
)
def test_a_run_folder_is_not_clobbered(run_folder, args, msg):
    before = snapshot(run_folder)
    result = runner.invoke(train_cli.app, [*args, "-o", str(run_folder), "--strategy", "default", "-q"],
                           input=tiny_stream(n=20).to_npz())
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"gk-train: {run_folder}: {msg}"
    assert snapshot(run_folder) == before


def train(out, *args, data=None):
    given = ["--data", str(data)] if data is not None else []
    return runner.invoke(train_cli.app, ["pixelcnn", *given, "--strategy", "default", "-o", str(out), *args])


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("data") / "tiny.npz"
    data.write_bytes(tiny_stream(n=40).to_npz())
    return data


def run_of(out: Path) -> tuple[dict, dict, list]:
    """The run config as state.json, config.json and metrics.json hold it, and the rows' lr."""
    metrics = json.loads((out / "metrics.json").read_text())
    return (json.loads((out / "state.json").read_text())["run"], json.loads((out / "config.json").read_text()),
            [r["lr"] for r in metrics["epochs"]], metrics["run"])


@pytest.mark.slow  # three short training legs in-process: about 30 s on a busy 2-core machine
def test_a_resumed_run_keeps_its_options_but_those_given(tmp_path, tiny_data):
    out = tmp_path / "run"
    first = train(out, *TINY, "--epochs", "1", "-b", "8", "--seed", "3", "--flip", "--lr", "0.003", "-q", data=tiny_data)
    assert first.exit_code == 0, first.output

    again = train(out, "--epochs", "2", "--resume")  # no --flip, --lr, --set, --data: the run's own
    assert again.exit_code == 0, again.output
    assert f"reading the run's data again: {tiny_data}" in again.stderr
    assert "resuming after epoch 1 (epochs 1 -> 2 from here on)" in again.stderr
    state, config, lrs, metrics = run_of(out)
    assert state == config == metrics
    assert state["source"] == {"paths": [str(tiny_data)]}
    assert (state["flip"], state["lr"], state["batch_size"], state["seed"], state["epochs"]) == (True, 0.003, 8, 3, 2)
    assert state["model"]["channels"] == 4 and lrs == pytest.approx([0.003, 0.003])

    changed = train(out, "--epochs", "3", "--resume", "--lr", "0.0005", *TINY, data=tiny_data)  # same settings: fine
    assert changed.exit_code == 0, changed.output
    assert "resuming after epoch 2 (epochs 2 -> 3, lr 0.003 -> 0.0005 from here on)" in changed.stderr
    state, config, lrs, _ = run_of(out)
    assert state == config and (state["flip"], state["lr"], state["batch_size"]) == (True, 0.0005, 8)
    assert lrs == pytest.approx([0.003, 0.003, 0.0005])  # not the checkpoint's 0.003 again

    before = snapshot(out)
    refused = train(out, "--epochs", "4", "--resume", "--set", "channels=8", data=tiny_data)
    assert refused.exit_code == 2 and refused.stderr == (
        f"gk-train: {out}: a resumed run keeps its model settings (channels 4 -> 8 asked): resume without --set or "
        "--config, or start a new run in another -o DIR\n")
    assert snapshot(out) == before


@pytest.mark.slow  # two short training legs in-process
def test_a_failed_write_keeps_the_last_whole_epoch(tmp_path, tiny_data, monkeypatch):
    import errno

    from genkit import models

    out, save, lasts = tmp_path / "run", models.save, []

    def full_disk(model, path, **kw):  # the disk fills while epoch 2 is saved
        if Path(path).name == "last.keras":
            lasts.append(path)
            if len(lasts) == 2:
                Path(path).write_bytes(b"half a file")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return save(model, path, **kw)

    monkeypatch.setattr(models, "save", full_disk)
    failed = train(out, *TINY, "--epochs", "3", "-b", "8", "-q", data=tiny_data)
    assert failed.exit_code == 2 and failed.stdout == ""
    assert failed.stderr == (f"gk-train: cannot save epoch 2 (No space left on device); {out} keeps epoch 1: free space "
                             "and go on with --resume\n")
    assert epoch_of(out) == 1 and not (out / ".pending").exists() and not (out / ".lock").exists()
    monkeypatch.setattr(models, "save", save)

    again = train(out, "--resume", "-q", data=tiny_data)
    assert again.exit_code == 0, again.output
    assert epoch_of(out) == 3 and [r["epoch"] for r in json.loads((out / "metrics.json").read_text())["epochs"]] == [1, 2, 3]


@pytest.mark.slow  # one gk-train process
def test_a_file_size_limit_stops_the_run_in_one_line(tmp_path, tiny_data):
    import resource

    def limit():  # files past 20 kB fail to write (EFBIG) instead of killing the process (SIGXFSZ)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "cli.train", "pixelcnn", "--data", str(tiny_data), *TINY, "--epochs", "2", "-b", "8",
           "--strategy", "default", "-q", "-o", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), preexec_fn=limit,
                          capture_output=True, text=True, timeout=WAIT)
    lines = [line for line in done.stderr.splitlines() if line.startswith("gk-train:")]
    assert done.returncode == 2 and done.stdout == ""
    assert lines == ["gk-train: cannot save epoch 1 (File too large); no epoch was saved: go on with --resume once it "
                     "can be written"]
    assert epoch_of(out) == 0 and not (out / ".pending").exists() and not (out / ".lock").exists()


@pytest.mark.slow  # two one-epoch legs in-process
def test_genkit_quick_trains_one_epoch_a_leg(tmp_path, tiny_data, monkeypatch):
    monkeypatch.setenv("GENKIT_QUICK", "1000")
    out = tmp_path / "run"
    first = train(out, *TINY, "--epochs", "3", "-b", "8", data=tiny_data)
    assert first.exit_code == 0, first.output
    assert first.stderr.count("GENKIT_QUICK: one epoch this leg") == 1
    assert epoch_of(out) == 1 and json.loads((out / "config.json").read_text())["epochs"] == 3  # the run's own stays
    again = train(out, "--resume", "-q", data=tiny_data)
    assert again.exit_code == 0 and epoch_of(out) == 2


def test_a_folder_in_use_is_refused_at_once(run_folder):
    import socket

    lock = {"host": socket.gethostname(), "pid": os.getppid(), "started": time.time()}
    (run_folder / ".lock").write_text(json.dumps(lock))
    before = snapshot(run_folder)
    result = runner.invoke(train_cli.app, ["pixelcnn", "-o", str(run_folder), "--resume", "-q"], input=b"not read")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"gk-train: {run_folder}: a run is live in it (host {socket.gethostname()}, "
                                    f"pid {os.getppid()}, locked 0 s ago)") and result.stderr.count("\n") == 1
    assert snapshot(run_folder) == before


@pytest.mark.slow  # two short training legs in-process
def test_init_fine_tunes_a_model_whose_file_lacks_a_record_and_refuses_other_data(tmp_path, tiny_data):
    first = train(tmp_path / "a", *TINY, "--epochs", "1", "-b", "8", "-q", data=tiny_data)
    assert first.exit_code == 0, first.output
    assert "input_prep" not in json.loads(zipfile.ZipFile(tmp_path / "a" / "model.keras").read("config.json"))["config"]
    # the same images, now with a record of their crop: the model (trained without one) is still their twin
    cropped = tmp_path / "cropped.npz"
    stream = gio.Stream.from_npz(tiny_data.read_bytes())
    cropped.write_bytes(gio.Stream(indices=stream.indices, palette=stream.palette, meta={"crop": 4}).to_npz())
    tuned = train(tmp_path / "b", "--init", str(tmp_path / "a"), "--epochs", "1", "-b", "8", "-q", data=cropped)
    assert tuned.exit_code == 0, tuned.output
    assert json.loads((tmp_path / "b" / "config.json").read_text())["init"] == str((tmp_path / "a" / "model.keras").resolve())
    # other colours: refused in one line, exit code 2, no run folder made
    other = tmp_path / "other.npz"
    other.write_bytes(gio.Stream(indices=stream.indices, palette=stream.palette[::-1].copy()).to_npz())
    refused = train(tmp_path / "c", "--init", str(tmp_path / "a"), "--epochs", "1", "-q", data=other)
    assert refused.exit_code == 2 and refused.stderr.startswith("gk-train: ") and refused.stderr.count("\n") == 1
    assert "was trained on other data: its palette differs from this data's" in refused.stderr
    assert not (tmp_path / "c" / "config.json").exists()
    both = train(tmp_path / "a", "--init", str(tmp_path / "a"), "--resume")
    assert both.exit_code == 2 and "--init starts a new run" in both.stderr
