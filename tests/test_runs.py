"""The run folder (genkit.runs): an epoch's commit is all or nothing whatever instant a kill
comes at, what a run left behind reads back, one run at a time holds the folder (its lock), and
a resumed run keeps the options not given again. No TensorFlow: the files stand in for models."""

import json
import os
import socket
import time

import pytest

from genkit import runs
from genkit.errors import GenkitError
from genkit.runs import RunFolder


def writer(text):
    return lambda path: path.write_text(text)


def contents(folder: RunFolder) -> dict:
    return {p.name: p.read_text() for p in folder.path.iterdir() if p.is_file()}


@pytest.fixture
def folder(tmp_path):
    """A run folder at epoch 1."""
    f = RunFolder(tmp_path / "run")
    f.commit({runs.LAST: writer("1"), runs.MODEL: writer("1"), runs.METRICS: writer("1")}, {"family": "x", "epoch": 1})
    return f


def test_a_commit_puts_every_file_in_place_state_last(folder):
    assert contents(folder) == {runs.LAST: "1", runs.MODEL: "1", runs.METRICS: "1", runs.STATE: '{\n "family": "x",\n "epoch": 1\n}'}
    folder.commit({runs.LAST: writer("2"), runs.METRICS: writer("2")}, {"family": "x", "epoch": 2})  # model.keras not improved
    assert contents(folder) | {runs.STATE: None} == {runs.LAST: "2", runs.MODEL: "1", runs.METRICS: "2", runs.STATE: None}
    assert folder.state() == {"family": "x", "epoch": 2}
    assert not (folder.path / runs.PENDING).exists()


def test_a_commit_cut_short_before_its_state_is_dropped(folder):
    pending = folder.path / runs.PENDING
    pending.mkdir()
    (pending / runs.LAST).write_text("2")  # killed before its state.json: epoch 2 never happened
    (pending / ".last.keras.tmp").write_text("half")
    before = contents(folder)
    assert folder.recover() is False
    assert contents(folder) == before and not pending.exists()


def test_a_commit_cut_short_between_its_moves_is_finished(folder):
    pending = folder.path / runs.PENDING
    pending.mkdir()
    (folder.path / runs.METRICS).write_text("2")  # killed after moving metrics.json into place,
    (pending / runs.LAST).write_text("2")  # before last.keras and state.json
    (pending / ".model.keras.tmp").write_text("half")  # a writer's temporary file
    (pending / runs.STATE).write_text('{"family": "x", "epoch": 2}')
    assert folder.recover() is True
    assert contents(folder) == {runs.LAST: "2", runs.MODEL: "1", runs.METRICS: "2", runs.STATE: '{"family": "x", "epoch": 2}'}
    assert not pending.exists()
    assert folder.recover() is False  # nothing left to do


def test_a_kill_at_any_instant_of_a_commit_leaves_one_whole_epoch(folder, monkeypatch):
    """Every os.replace of the next commit is a point where the process may die: recovery then
    yields epoch 1 or epoch 2 as a whole, never a mixture."""
    files = {runs.LAST: writer("2"), runs.MODEL: writer("2"), runs.METRICS: writer("2")}
    epoch1, replace = contents(folder), os.replace
    for kill_at in range(4 + 1):  # before the state's own write (1), or before one of the 4 moves
        work = RunFolder(folder.path.parent / f"kill{kill_at}")
        work.path.mkdir()
        for name, text in epoch1.items():
            (work.path / name).write_text(text)
        calls = []

        def dying(src, dst):
            if len(calls) == kill_at:
                raise KeyboardInterrupt("killed")
            calls.append(dst)
            replace(src, dst)

        monkeypatch.setattr(runs.os, "replace", dying)
        with pytest.raises(KeyboardInterrupt):
            work.commit(files, {"family": "x", "epoch": 2})
        monkeypatch.setattr(runs.os, "replace", replace)
        work.recover()
        got = contents(work)
        epoch = json.loads(got.pop(runs.STATE))["epoch"]
        assert set(got.values()) == {str(epoch)}, (kill_at, got)
        assert epoch == (1 if kill_at == 0 else 2) and not (work.path / runs.PENDING).exists()


def test_a_commit_finishes_a_pending_one_first(folder):
    pending = folder.path / runs.PENDING
    pending.mkdir()
    (pending / runs.MODEL).write_text("2")
    (pending / runs.STATE).write_text('{"family": "x", "epoch": 2}')
    folder.commit({runs.LAST: writer("3")}, {"family": "x", "epoch": 3})
    assert (folder.path / runs.MODEL).read_text() == "2" and folder.state()["epoch"] == 3


def test_reading_a_run_folder(tmp_path):
    folder = RunFolder(tmp_path / "run")
    assert folder.state() is None and folder.config() is None
    with pytest.raises(GenkitError, match="no metrics.json"):
        folder.metrics()
    folder.write_config({"family": "x", "model": {"a": 1}})
    folder.write_metrics({"epochs": [{"epoch": 1}]})
    assert folder.config() == {"family": "x", "model": {"a": 1}} and folder.metrics() == {"epochs": [{"epoch": 1}]}
    assert (folder.path / runs.CONFIG).read_text().endswith("}\n")
    assert folder.model_path == folder.path / "model.keras" and folder.last_path == folder.path / "last.keras"
    (folder.path / runs.STATE).write_text('{"epoch": 1}')
    with pytest.raises(GenkitError, match=r"cannot read the run's state \(KeyError"):
        folder.state()
    assert not list(folder.path.glob(".*"))  # no temporary files left


# -- one run at a time: the folder's lock ------------------------------------------------------------
def dead_pid() -> int:
    """A pid that no process has: a child that has been reaped."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_lock(folder: RunFolder, host: str, pid: int, age_s: float = 0):
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.lock_path.write_text(json.dumps({"host": host, "pid": pid, "started": time.time() - age_s}))


def test_a_run_holds_the_lock_and_leaves_no_trace(tmp_path):
    folder = RunFolder(tmp_path / "new" / "run")
    with folder.lock():
        held = json.loads(folder.lock_path.read_text())
        assert held["host"] == socket.gethostname() and held["pid"] == os.getpid()
        with pytest.raises(GenkitError) as e:  # a second run, while this one is live
            with RunFolder(folder.path).lock(take_over=True):
                pass
        assert str(e.value) == (f"{folder.path}: a run is live in it (host {held['host']}, pid {os.getpid()}, "
                                "locked 0 s ago): wait for it, or stop it first")
        assert folder.lock_path.is_file()  # the refused run left the live one's lock alone
    assert not folder.path.exists()  # made for the lock, and nothing saved in it


def test_a_live_lock_of_another_process_is_refused(folder):
    write_lock(folder, socket.gethostname(), os.getppid(), age_s=300)
    with pytest.raises(GenkitError, match=rf"a run is live in it \(host .*, pid {os.getppid()}, locked 5 min ago\)"):
        folder.check_lock()
    assert folder.lock_path.is_file()


def test_a_killed_runs_lock_is_stale(folder):
    write_lock(folder, socket.gethostname(), os.getpid(), age_s=time.time() - runs._IMPORTED + 60)  # an earlier process
    assert folder.check_lock()["pid"] == os.getpid()  # with this pid: its lock is older than this process
    write_lock(folder, socket.gethostname(), dead_pid(), age_s=60)
    notes = []
    with folder.lock(log=notes.append):
        assert json.loads(folder.lock_path.read_text())["pid"] == os.getpid()
    assert notes == [] and not folder.lock_path.exists() and folder.state()["epoch"] == 1  # the folder stays


def test_another_hosts_lock_is_refused_then_taken_over(folder):
    write_lock(folder, "elsewhere", 4242, age_s=3 * 3600)
    with pytest.raises(GenkitError) as e:
        with folder.lock():
            pass
    assert str(e.value) == (f"{folder.path}: locked by a run on another host (host elsewhere, pid 4242, locked 3 h ago): "
                            "if that run is gone, take the folder over with --take-over")
    assert json.loads(folder.lock_path.read_text())["host"] == "elsewhere"
    notes = []
    with folder.lock(take_over=True, log=notes.append):
        assert json.loads(folder.lock_path.read_text())["pid"] == os.getpid()
    assert notes == ["taking over the lock of host elsewhere, pid 4242, locked 3 h ago"]
    assert not folder.lock_path.exists()


def test_an_unreadable_lock_needs_take_over(folder):
    folder.lock_path.write_text("")
    with pytest.raises(GenkitError, match="cannot be read: if no run is live in it, take it over with --take-over"):
        folder.check_lock()
    with folder.lock(take_over=True):
        pass
    assert not folder.lock_path.exists()


def test_run_options_not_given_keep_the_resumed_runs():
    before = {"epochs": 8, "batch_size": 8, "lr": 0.003, "seed": 3, "flip": True, "strategy": "default"}
    defaults = {"a": 5, "b": 6}
    run, changed = runs.RunConfig("x", epochs=10, lr=0.0005).resumed(before, {"a": 1, "b": 2}, defaults)
    assert run == runs.RunConfig("x", 10, 8, 0.0005, 3, True, "default", {"a": 1, "b": 2})
    assert changed == ["epochs 8 -> 10", "lr 0.003 -> 0.0005"]
    same = runs.RunConfig("x", flip=False, model={"a": 1, "b": 2}).resumed(before, {"a": 1, "b": 2}, defaults)
    assert same[1] == ["flip True -> False"]
    with pytest.raises(GenkitError, match=r"keeps its model settings \(a 1 -> 2 asked\)"):  # b at its default: not asked
        runs.RunConfig("x", model={"a": 2, "b": 6}).resumed(before, {"a": 1, "b": 2}, defaults)
    # settings of the loss alone may change; a setting the run predates had its default
    run, changed = runs.RunConfig("x", model={"a": 1, "b": 7, "c": 3}).resumed(before, {"a": 1, "b": 2}, {**defaults, "c": 0},
                                                                              training_only=("b", "c"))
    assert run.model == {"a": 1, "b": 7, "c": 3} and changed == ["b 2 -> 7", "c 0 -> 3"]
    assert [c.key for c in changed] == ["b", "c"]  # what genkit.train reads to reset the best epoch
    with pytest.raises(GenkitError, match=r"\(a 1 -> 2 asked\).*may change b, c"):
        runs.RunConfig("x", model={"a": 2, "b": 7}).resumed(before, {"a": 1, "b": 2}, defaults, training_only=("b", "c"))
    # a setting named by the user (--set b=6) applies even at its default; one not named stays the run's
    run, changed = runs.RunConfig("x", model={"a": 5, "b": 6}, given=("b",)).resumed(before, {"a": 1, "b": 2}, defaults,
                                                                                    training_only=("b",))
    assert run.model == {"a": 1, "b": 6} and changed == ["b 2 -> 6"]
    with pytest.raises(GenkitError, match=r"\(a 1 -> 5 asked\)"):
        runs.RunConfig("x", model={"a": 5, "b": 6}, given=("a",)).resumed(before, {"a": 1, "b": 2}, defaults)
    assert runs.RunConfig("x", lr=0.01).fresh() == runs.RunConfig("x", 30, 32, 0.01, 0, False, "auto", {})
