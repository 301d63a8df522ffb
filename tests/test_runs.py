"""The run folder (genkit.runs): an epoch's commit is all or nothing whatever instant a kill
comes at, and what a run left behind reads back. No TensorFlow: the files stand in for models."""

import json
import os

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
