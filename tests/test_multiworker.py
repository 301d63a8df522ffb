"""MultiWorkerMirroredStrategy: two gk-train workers on 127.0.0.1 (free ports picked at run time)
end with identical weights, equal to one process's with the same global batch, and only the
chief writes (files, log lines, stdout). And every way the strategy can fail to start is one
line and exit code 2, with nothing written. And scripts/launch_workers.py gives each process its
TF_CONFIG, and stops the others when one fails."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import train as train_cli
from genkit import io as gio
from scripts.launch_workers import free_ports

ROOT = Path(__file__).resolve().parent.parent
WAIT = 600  # seconds per process; the three use about 70 s of CPU in all, far more wall time on a busy machine
TINY = ["--set", "embed=4", "--set", "channels=4", "--set", "layers=2", "--set", "head=8", "--set", "dropout=0"]

# gk-train itself, plus a note of the weights each worker ended with (the workers other than
# the chief write nothing, so the test has to ask their process).
WORKER = r"""
import sys
import keras
import numpy as np
fitted = []
fit = keras.Model.fit
def remember(self, *args, **kwargs):
    fitted.append(self)
    return fit(self, *args, **kwargs)
keras.Model.fit = remember
from cli import train
weights_file, sys.argv = sys.argv[1], ["gk-train", *sys.argv[2:]]
code = 0
try:
    train.run()
except SystemExit as e:
    code = e.code
np.savez(weights_file, *[np.asarray(w) for w in fitted[0].get_weights()])
sys.exit(code)
"""


def tiny_stream(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return gio.Stream(indices=rng.integers(0, 4, (n, 4, 3)).astype(np.uint8),
                      palette=(np.arange(4)[:, None] * 85 * np.ones(3)).astype(np.uint8))


def load(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.slow  # three gk-train processes
def test_two_workers_train_like_one_process_and_only_the_chief_writes(tmp_path):
    data = tmp_path / "tiny.npz"
    data.write_bytes(tiny_stream().to_npz())
    args = ["pixelcnn", "--data", str(data), *TINY, "--epochs", "2", "-b", "8", "--seed", "1"]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(2)]}
    procs = []
    for name, strategy, tf_config in [
        ("single", "default", None),
        ("worker0", "multi-worker", {"cluster": cluster, "task": {"type": "worker", "index": 0}}),
        ("worker1", "multi-worker", {"cluster": cluster, "task": {"type": "worker", "index": 1}}),
    ]:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("TF_CONFIG", None)
        if tf_config:
            env["TF_CONFIG"] = json.dumps(tf_config)
        cmd = [sys.executable, "-c", WORKER, str(tmp_path / f"{name}.npz"), *args, "--strategy", strategy,
               "-o", str(tmp_path / name)]
        procs.append((name, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             text=True)))
    results = {}
    try:
        for name, proc in procs:
            out, err = proc.communicate(timeout=WAIT)
            results[name] = (proc.returncode, out, [line for line in err.splitlines() if line.startswith("gk-train:")])
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for name, (code, out, lines) in results.items():
        assert code == 0, (name, lines)

    assert results["worker0"][1].strip() == str(tmp_path / "worker0" / "model.keras")
    assert any("epoch 2/2" in line for line in results["worker0"][2])
    assert results["worker1"][1] == "" and results["worker1"][2] == []  # silent,
    assert not (tmp_path / "worker1").exists()  # and wrote nothing

    single, chief, other = (load(tmp_path / f"{n}.npz") for n in ("single", "worker0", "worker1"))
    for a, b, c in zip(single, chief, other):
        np.testing.assert_array_equal(b, c)
        np.testing.assert_allclose(a, b, atol=1e-5)
    from genkit import models

    for a, b in zip(models.load(str(tmp_path / "worker0" / "last.keras")).get_weights(), chief):
        np.testing.assert_array_equal(a, b)
    metrics = [json.loads((tmp_path / n / "metrics.json").read_text())["epochs"] for n in ("single", "worker0")]
    assert [r["val_loss"] for r in metrics[0]] == pytest.approx([r["val_loss"] for r in metrics[1]], abs=1e-5)


runner = CliRunner()


@pytest.mark.parametrize(
    "strategy, tf_config, replicas, msg",
    [
        ("multi-worker", None, None, "--strategy multi-worker needs TF_CONFIG"),
        ("multi-worker", "{cluster: 1", None, "TF_CONFIG is not JSON"),
        ("multi-worker", '["worker"]', None, 'TF_CONFIG needs "cluster" and "task" objects'),
        ("multi-worker", '{"cluster": {"worker": ["127.0.0.1:1"]}}', None, 'TF_CONFIG needs "cluster" and "task"'),
        ("multi-worker", '{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', None,
         "cluster.worker must be a non-empty list of host:port addresses"),
        ("multi-worker", '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}', None,
         "TF_CONFIG task.index 2 is out of range: cluster.worker has 2 addresses"),
        ("multi-worker", '{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', None,
         "TF_CONFIG task.type must be one of worker, got 'ps'"),
        ("mirrored", None, "1", "--strategy mirrored needs at least two devices"),
        ("mirrored", None, "two", "GENKIT_CPU_REPLICAS must be a positive integer"),
        ("sideways", None, None, "unknown strategy 'sideways'"),
    ],
)
def test_a_strategy_that_cannot_start_is_one_line_and_exit_2(tmp_path, monkeypatch, strategy, tf_config, replicas, msg):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if tf_config is not None:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    if replicas is not None:
        monkeypatch.setenv("GENKIT_CPU_REPLICAS", replicas)
    out = tmp_path / "run"
    result = runner.invoke(train_cli.app, ["pixelrnn", "--strategy", strategy, "-o", str(out), "-q"],
                           input=tiny_stream().to_npz())
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("gk-train: ") and msg in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and result.stdout == ""
    assert not out.exists()  # nothing written


# A worker that SIGKILLs itself at a given (epoch, batch) of its run: a machine lost mid-epoch.
DYING = r"""
import os, signal, sys
import keras
epoch, batch = map(int, os.environ["DIE_AT"].split(","))
class Die(keras.callbacks.Callback):
    def on_epoch_begin(self, e, logs=None):
        self.epoch = e
    def on_train_batch_end(self, b, logs=None):
        if (self.epoch, b) == (epoch, batch):
            os.kill(os.getpid(), signal.SIGKILL)
fit = keras.Model.fit
def dying(self, *args, callbacks=None, **kwargs):
    return fit(self, *args, callbacks=[*(callbacks or []), Die()], **kwargs)
keras.Model.fit = dying
from cli import train
sys.argv = ["gk-train", *sys.argv[1:]]
train.run()
"""


@pytest.mark.slow  # two pairs of gk-train workers, then one more run
def test_a_multi_worker_run_whose_worker_is_killed_resumes_when_restarted(tmp_path):
    data = tmp_path / "tiny.npz"
    data.write_bytes(tiny_stream().to_npz())
    args = ["pixelcnn", "--data", str(data), *TINY, "--epochs", "3", "-b", "8", "--seed", "1"]

    def workers(run, *extra, die_at=None):
        cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(2)]}
        procs = []
        for index in (0, 1):
            env = dict(os.environ, PYTHONPATH=str(ROOT),
                       TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
            env.pop("DIE_AT", None)
            if die_at and index == 1:
                env["DIE_AT"] = die_at
            script = ["-c", DYING] if die_at and index == 1 else ["-m", "cli.train"]
            procs.append(subprocess.Popen([sys.executable, *script, *args, "--strategy", "multi-worker", "-o", str(run),
                                           *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
        try:
            return [(p.wait(timeout=WAIT), p.stdout.read(), [l for l in p.stderr.read().splitlines() if l.startswith("gk-train:")])
                    for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()

    run = tmp_path / "run"
    (chief_code, _, chief_lines), (other_code, _, _) = workers(run, die_at="1,2")  # dies in epoch 2 of 3
    assert other_code == -9
    assert chief_code == 2 and "another worker stopped in epoch 2/3" in chief_lines[-1], chief_lines
    assert json.loads((run / "state.json").read_text())["epoch"] == 1  # the last whole epoch, kept

    (chief_code, chief_out, chief_lines), (other_code, _, _) = workers(run, "--resume")
    assert (chief_code, other_code) == (0, 0), chief_lines
    assert "resuming after epoch 1" in " ".join(chief_lines) and chief_out.strip() == str(run / "model.keras")

    single = runner.invoke(train_cli.app, [*args, "--strategy", "default", "-o", str(tmp_path / "single"), "-q"])
    assert single.exit_code == 0, single.output
    from genkit import models

    for a, b in zip(models.load(str(tmp_path / "single" / "last.keras")).get_weights(),
                    models.load(str(run / "last.keras")).get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


LAUNCHER = [sys.executable, str(ROOT / "scripts" / "launch_workers.py")]
# a stand-in worker: notes its TF_CONFIG; worker 1 fails with exit code 3 when asked to, worker 0 then waits to be stopped
ECHO = r"""
import json, os, sys, time
cfg = json.loads(os.environ["TF_CONFIG"])
open(os.path.join(sys.argv[1], f"{cfg['task']['index']}.json"), "w").write(json.dumps(cfg))
if sys.argv[2:] == ["fail"]:
    if cfg["task"]["index"] == 1:
        sys.exit(3)
    time.sleep(60)
"""


def test_the_launcher_gives_each_worker_its_tf_config(tmp_path):
    done = subprocess.run([*LAUNCHER, "--workers", "3", "--", sys.executable, "-c", ECHO, str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    configs = [json.loads((tmp_path / f"{i}.json").read_text()) for i in range(3)]
    assert [c["task"] for c in configs] == [{"type": "worker", "index": i} for i in range(3)]
    workers = configs[0]["cluster"]["worker"]
    assert all(c["cluster"] == {"worker": workers} for c in configs)
    assert len(set(workers)) == 3 and all(w.startswith("127.0.0.1:") for w in workers)


def test_the_launcher_stops_the_others_when_one_fails(tmp_path):
    started = time.time()
    done = subprocess.run([*LAUNCHER, "--", sys.executable, "-c", ECHO, str(tmp_path), "fail"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert time.time() - started < 30  # worker 0 was stopped, not waited for
    usage = subprocess.run([*LAUNCHER, "--workers", "2"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: python scripts/launch_workers.py")
