"""Text outputs (gk-interp with two sentences, gk-sample on a sentence model): -o FILE, -f txt|json,
image formats refused before any work; and argument errors that name what the user typed. On the
shipped sonnet-sentence-vae (small), a few steps each."""

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import interp, sample
from genkit import models
from genkit.text import Line, ScoredSentences, detokenize, format_lines, lines_of, tokenize

runner = CliRunner()
A, B = "shall i compare thee to a summer's day?", "and summer's lease hath all too short a date"
MODEL = "sonnet-sentence-vae"
needs_sonnets = pytest.mark.skipif(not (models.CHECKPOINT_DIR / "sonnet-sentence-vae.keras").is_file(),
                                   reason="needs the shipped checkpoints/sonnet-sentence-vae.keras")


def one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and result.stdout == "", result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def parse(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_the_line_format():
    assert Line(0, "a “b”", -1.23456).json() == '{"step": 0, "text": "a “b”", "logp": -1.2346}'
    scored = ScoredSentences(["x", "y"], logp=[-1.0, -2.5])
    assert format_lines(lines_of(scored), "txt") == "x\ny\n"
    assert parse(format_lines(lines_of(scored.select([1])), "json")) == [{"step": 0, "text": "y", "logp": -2.5}]


@needs_sonnets
def test_interp_writes_txt_and_json_with_the_models_log_probability():
    txt = runner.invoke(interp.app, [A, B, "--steps", "3"])
    assert txt.exit_code == 0, txt.output
    js = runner.invoke(interp.app, [A, B, "--steps", "3", "-f", "json"])
    assert js.exit_code == 0, js.output
    rows = parse(js.stdout)
    assert [r["step"] for r in rows] == [0, 1, 2] and [r["text"] for r in rows] == txt.stdout.splitlines()
    assert all(math.isfinite(r["logp"]) and r["logp"] < 0 for r in rows)
    net = models.load(MODEL)
    m, _ = net.encode_texts([A, B])
    first, last = rows[0], rows[-1]
    assert net.line_logp([first["text"], last["text"]], m) == pytest.approx([first["logp"], last["logp"]], abs=1e-3)
    # the greedy decoding is likelier under its code than the same words in another order
    words = tokenize(first["text"], net.unit, keep=net.index)
    shuffled = [words[i] for i in np.random.default_rng(0).permutation(len(words))]
    assert shuffled != words
    assert net.line_logp([detokenize(shuffled, net.unit)], m[:1])[0] < first["logp"]


@needs_sonnets
def test_sample_writes_json_lines_and_o_file_atomically(tmp_path):
    out = tmp_path / "son.txt"
    out.write_text("old\n")
    first = runner.invoke(sample.app, [MODEL, "-n", "2", "--seed", "1", "-o", str(out)])
    assert first.exit_code == 0 and first.stdout == "", first.output
    assert len(out.read_text().splitlines()) == 2 and [p.name for p in tmp_path.iterdir()] == ["son.txt"]
    js = runner.invoke(sample.app, [MODEL, "-n", "2", "--seed", "1", "-o", str(tmp_path / "son.jsonl")])  # json by extension
    rows = parse((tmp_path / "son.jsonl").read_text())
    assert js.exit_code == 0 and [r["step"] for r in rows] == [0, 1]
    assert [r["text"] for r in rows] == out.read_text().splitlines()
    assert all(math.isfinite(r["logp"]) and r["logp"] < 0 for r in rows)
    failed = runner.invoke(sample.app, [MODEL, "-n", "2", "--temperature", "-1", "-o", str(out)])
    assert failed.exit_code == 2 and len(out.read_text().splitlines()) == 2  # a failed run leaves the file as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["son.jsonl", "son.txt"]  # no temporary file left


@needs_sonnets
@pytest.mark.parametrize("app, args", [
    (interp.app, [A, B, "--steps", "3", "-f", "png"]),
    (interp.app, [MODEL, A, B, "--steps", "3", "-o", "{tmp}/son.png"]),
    (sample.app, [MODEL, "-n", "2", "-o", "{tmp}/son.png"]),
    (sample.app, [MODEL, "-n", "2", "-f", "npz"]),
    (sample.app, [MODEL, "-n", "2", "-f", "csv"]),
])
def test_image_formats_are_refused_before_any_work(app, args, tmp_path, monkeypatch):
    def no_work(spec):
        raise AssertionError("the model was loaded before the format was checked")

    monkeypatch.setattr(models, "load", no_work)
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    line = one_line_error(result, "txt")
    assert "sentences" in line or "csv" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("app, args, needles", [
    (interp.app, ["only one sentence"], ["gk-interp: give two sentences (got one)"]),
    (interp.app, ["a b", "c d", "e f"], ["give two sentences (got three)"]),
    (interp.app, ["vea", "a.png", "b.png"], ["unknown model 'vea' (did you mean vae? models: ", "pixelcnn", MODEL]),
    (interp.app, ["a.png", "b.png"], ["a.png: no such file"]),
    (sample.app, ["pixlecnn"], ["gk-sample: unknown model 'pixlecnn' (did you mean pixelcnn?", "vae", "mnist-vae"]),
    (sample.app, ["zzzz"], ["unknown model 'zzzz' (models: pixelrnn, "]),
    (sample.app, ["runs/nothing"], ["runs/nothing: no such model file"]),
    (sample.app, ["nothing.keras"], ["nothing.keras: no such model file"]),
    (sample.app, ["ae"], ["no checkpoint is shipped for 'ae'", "gk-train ae "]),
])
def test_errors_name_what_was_typed(app, args, needles):
    line = one_line_error(runner.invoke(app, args), *needles)
    assert "make checkpoints" not in line


@needs_sonnets
def test_an_empty_sentence_is_named():
    one_line_error(runner.invoke(interp.app, ["", "hello there"]), "gk-interp: sentence A is empty")
    one_line_error(runner.invoke(interp.app, ["hello there", "  "]), "sentence B is empty")
