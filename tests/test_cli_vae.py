"""gk-train / gk-sample --grid / gk-interp / gk-eval on tiny VAEs and tiny streams."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import eval as evaluate
from cli import interp, sample, train
from genkit import io as gio
from test_vae import H, W, palette_stream

runner = CliRunner()
TINY = ["--set", "hidden=16", "--set", "channels=4", "--latent", "3"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("vae-runs")
    out = {}
    for family, stream in (("vae", palette_stream()), ("cvae", palette_stream())):
        extra = ["--set", "classes=3"] if family == "cvae" else []
        result = runner.invoke(train.app, [family, *TINY, *extra, "--epochs", "2", "-o", str(root / family), "-q"],
                               input=stream.to_npz())
        assert result.exit_code == 0, result.output
        out[family] = root / family
    metrics = json.loads((out["vae"] / "metrics.json").read_text())
    assert metrics["headline"] == "nelbo" and "val_kl" in metrics["epochs"][-1]
    assert metrics["run"]["model"]["latent"] == 3
    return out


def pair_file(tmp_path, stream=None):
    stream = stream or palette_stream(2, seed=3)
    path = tmp_path / "pair.npz"
    path.write_bytes(stream.to_npz())
    for i in range(2):
        (tmp_path / f"{'ab'[i]}.png").write_bytes(gio.encode_png(stream.select(slice(i, i + 1))))
    return path


def test_grid_png(runs):
    out = runner.invoke(sample.app, [str(runs["vae"]), "--grid", "0,2", "--range", "-2:2", "--steps", "3", "-f", "npz"])
    assert out.exit_code == 0, out.output
    sheet = gio.decode(out.stdout_bytes)
    assert sheet.indices.shape == (9, H, W)


def test_interp_from_two_pngs_and_from_one_npz(runs, tmp_path):
    pair = pair_file(tmp_path)
    a = runner.invoke(interp.app, [str(runs["vae"]), str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--steps", "4", "-f", "npz"])
    assert a.exit_code == 0, a.output
    b = runner.invoke(interp.app, [str(runs["vae"]), str(pair), "--steps", "4", "-f", "npz"])
    assert b.exit_code == 0, b.output
    assert np.array_equal(gio.decode(a.stdout_bytes).indices, gio.decode(b.stdout_bytes).indices)
    assert gio.decode(a.stdout_bytes).indices.shape == (4, H, W)
    c = runner.invoke(interp.app, [str(pair), "--model", str(runs["vae"]), "--steps", "4", "-f", "npz"])
    assert c.exit_code == 0 and c.stdout_bytes == b.stdout_bytes


def test_style_grid(runs, tmp_path):
    one = tmp_path / "one.npz"
    one.write_bytes(palette_stream(1).to_npz())
    out = runner.invoke(interp.app, [str(runs["cvae"]), "--style", str(one), "--labels", "0-2", "-f", "npz"])
    assert out.exit_code == 0, out.output
    styles = gio.decode(out.stdout_bytes)
    assert styles.indices.shape == (3, H, W) and list(styles.labels) == [0, 1, 2]


def test_eval_iwae_json(runs):
    out = runner.invoke(evaluate.app, [str(runs["vae"]), "-", "-k", "8", "--json"], input=palette_stream(6).to_npz())
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["k"] == 8 and result["images"] == 6 and result["nll_nats"] <= result["nelbo_nats"] + 1.0
    assert len(result["kl_per_dim"]) == 3


@pytest.mark.parametrize(
    "app, args, stdin, msg",
    [
        (sample.app, ["{vae}", "--grid", "0,5"], None, "grid dimension 5 is outside the code"),
        (sample.app, ["{vae}", "--grid", "0,1", "--steps", "1"], None, "--steps must be 2 to 1,000"),
        (sample.app, ["{vae}", "--grid", "0"], None, "two dimensions"),
        (sample.app, ["{vae}", "--labels", "1"], None, "conditional model"),
        (interp.app, ["{vae}", "{pair}", "--steps", "1"], None, "--steps must be 2 to 1,000"),
        (interp.app, ["{vae}", "{a}"], None, "exactly two images"),
        (interp.app, ["{vae}", "{pair}", "--steps", "1000000000"], None, "--steps must be 2 to 1,000"),
        (interp.app, ["{pair}"], None, "give the model first"),
        (interp.app, ["{vae}", "--style", "{a}"], None, "conditional model"),
        (interp.app, ["{cvae}", "--style", "{plain}", "--labels", "0-2"], None, "needs each image's label"),
        (interp.app, ["{cvae}", "--style", "{a}", "--label", "1", "--labels", "0-7"], None, "labels must be 0..2"),
        (evaluate.app, ["{vae}", "-", "-k", "0"], "stream", "-k must be at least 1"),
        (train.app, ["cvae", "-q"], "unlabelled", "needs class labels"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(runs, tmp_path, app, args, stdin, msg):
    pair_file(tmp_path)
    (tmp_path / "plain.png").write_bytes(gio.encode_png(gio.Stream(images=palette_stream(1).rgb())))
    (tmp_path / "other.png").write_bytes(gio.encode_png(gio.Stream(images=np.zeros((1, 9, 9, 3), np.uint8))))
    subs = {"{vae}": runs["vae"], "{cvae}": runs["cvae"], "{pair}": tmp_path / "pair.npz", "{a}": tmp_path / "a.png",
            "{other}": tmp_path / "other.png", "{plain}": tmp_path / "plain.png"}
    args = [str(subs.get(a, a)) for a in args]
    target = tmp_path / "out.png"
    data = {None: None, "stream": palette_stream(4).to_npz(),
            "unlabelled": gio.Stream(indices=palette_stream().indices, palette=palette_stream().palette).to_npz()}[stdin]
    result = runner.invoke(app, [*args, *(["-o", str(target)] if app is not evaluate.app and app is not train.app else [])],
                           input=data)
    assert result.exit_code == 2, result.output
    assert msg in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and result.stdout == ""
    assert not target.exists()
