"""gk-train, gk-sample, gk-complete and gk-eval on a tiny model and a tiny synthetic stream."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import complete, eval as evaluate, sample, train
from genkit import io as gio

runner = CliRunner()
K, H, W = 4, 4, 3
TINY = ["--set", "embed=4", "--set", "hidden=8", "--set", "layers=1"]


def tiny_stream(n=40, k=K, seed=0):
    rng = np.random.default_rng(seed)
    idx = np.zeros((n, H, W), np.uint8)
    idx[:, :, 1] = rng.integers(0, k, (n, H))  # a learnable structure: a stripe
    palette = (np.arange(k)[:, None] * (255 // max(k - 1, 1)) * np.ones(3)).astype(np.uint8)
    return gio.Stream(indices=idx, palette=palette)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny"
    result = runner.invoke(train.app, ["pixelrnn", *TINY, "--epochs", "2", "-o", str(out), "-q"],
                           input=tiny_stream().to_npz())
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out / "model.keras")
    return out


def test_train_writes_the_run_folder(run_dir):
    for name in ("model.keras", "last.keras", "metrics.json", "config.json", "state.json"):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "logs").is_dir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["epochs"]] == [1, 2]
    assert metrics["train_images"] == 32 and metrics["val_images"] == 4  # test images never seen
    assert metrics["run"]["model"]["hidden"] == 8


def test_resume_continues_from_the_last_epoch(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    result = runner.invoke(train.app, ["pixelrnn", "--epochs", "3", "--resume", "-o", str(copy), "-q"],
                           input=tiny_stream().to_npz())
    assert result.exit_code == 0, result.output
    metrics = json.loads((copy / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["epochs"]] == [1, 2, 3]
    assert metrics["run"]["model"]["hidden"] == 8  # the run's own settings, not the defaults


def test_sample_png_and_npz(run_dir):
    png = runner.invoke(sample.app, [str(run_dir), "-n", "5", "--seed", "2"])
    assert png.exit_code == 0, png.output
    s = gio.decode(png.stdout_bytes)
    assert s.indices.shape == (5, H, W) and s.indices.max() < K and len(s.palette) == K
    npz = runner.invoke(sample.app, [str(run_dir), "-n", "5", "--seed", "2", "-f", "npz"])
    assert np.array_equal(gio.decode(npz.stdout_bytes).indices, s.indices)  # same seed, same images
    other = runner.invoke(sample.app, [str(run_dir), "-n", "5", "--seed", "3", "-f", "npz"])
    assert not np.array_equal(gio.decode(other.stdout_bytes).indices, s.indices)


def test_complete_keeps_the_first_half(run_dir):
    data = tiny_stream(n=3, seed=9)
    out = runner.invoke(complete.app, [str(run_dir), "-", "--keep", "0.5", "-k", "2", "-f", "npz"], input=data.to_npz())
    assert out.exit_code == 0, out.output
    done = gio.decode(out.stdout_bytes)
    assert done.indices.shape == (6, H, W) and done.mask.shape == (6, H, W)
    assert done.mask.reshape(6, -1)[:, :6].all() and not done.mask.reshape(6, -1)[:, 6:].any()
    given = np.repeat(data.indices, 2, axis=0)
    assert np.array_equal(done.indices[done.mask], given[done.mask])
    sheet = runner.invoke(complete.app, [str(run_dir), "-", "-k", "2"], input=data.to_npz())
    assert sheet.exit_code == 0 and len(gio.decode(sheet.stdout_bytes)) == 3 * 4  # original | masked | 2


def test_eval_line_and_json(run_dir):
    line = runner.invoke(evaluate.app, [str(run_dir), "-"], input=tiny_stream().to_npz())
    assert line.exit_code == 0, line.output
    assert "bits/px" in line.stdout and "40 images" in line.stdout
    js = runner.invoke(evaluate.app, [str(run_dir), "-", "--split", "test", "--json"], input=tiny_stream().to_npz())
    result = json.loads(js.stdout)
    assert result["images"] == 4 and result["bits_per_pixel"] > 0
    assert abs(result["nats_per_image"] - result["bits_per_pixel"] * H * W * np.log(2)) < 1e-6


@pytest.mark.parametrize(
    "app, args, stdin, msg",
    [
        (train.app, ["nosuchmodel"], None, "unknown model"),
        (train.app, ["pixelrnn", "--set", "nope=1"], None, "no setting 'nope'"),
        (train.app, ["pixelrnn", "--set", "hidden=abc"], None, "hidden must be int"),
        (train.app, ["pixelrnn", "--epochs", "0"], None, "--epochs must be at least 1"),
        (train.app, ["pixelrnn", "-q"], "rgb", "palette-coded"),
        (sample.app, ["{tmp}/not-a-model.keras"], None, "not a genkit model"),
        (sample.app, ["{run}", "-n", "0"], None, "-n must be 1 to 100,000"),
        (sample.app, ["{run}", "-n", "10000000"], None, "-n must be 1 to 100,000"),
        (sample.app, ["{run}", "-n", "90000", "-o", "{tmp}/big.png"], None, "over the 33,554,432-pixel limit"),
        (sample.app, ["{run}", "--scale", "10000"], None, "--scale"),
        (sample.app, ["{run}", "--temperature", "-1"], None, "--temperature must be >= 0"),
        (complete.app, ["{run}", "-", "--keep", "1.5"], "stream", "--keep must be between 0 and 1"),
        (evaluate.app, ["{run}", "-"], "empty", "no images"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_dir, tmp_path, app, args, stdin, msg):
    (tmp_path / "not-a-model.keras").write_bytes(b"not a zip")
    args = [a.replace("{tmp}", str(tmp_path)).replace("{run}", str(run_dir)) for a in args]
    data = {
        None: tiny_stream().to_npz(),
        "stream": tiny_stream().to_npz(),
        "rgb": gio.Stream(images=np.zeros((20, H, W, 3), np.uint8)).to_npz(),
        "other-size": gio.Stream(indices=np.zeros((2, 5, 5), np.uint8), palette=np.zeros((K, 3), np.uint8)).to_npz(),
        "other-palette": gio.Stream(indices=np.zeros((2, H, W), np.uint8), palette=np.zeros((7, 3), np.uint8)).to_npz(),
        "empty": gio.Stream(indices=np.zeros((0, H, W), np.uint8), palette=np.zeros((K, 3), np.uint8)).to_npz(),
    }[stdin]
    result = runner.invoke(app, args, input=data)
    assert result.exit_code == 2, result.output
    assert msg in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and result.stdout == ""


def test_images_of_another_size_or_palette_go_onto_the_model_with_one_note(run_dir):
    """The input adapter (genkit.adapt): not refused, brought onto the model's size and palette."""
    other_size = gio.Stream(indices=np.zeros((2, 6, 5), np.uint8), palette=tiny_stream().palette).to_npz()
    result = runner.invoke(complete.app, [str(run_dir), "-", "-k", "1", "-f", "npz"], input=other_size)
    assert result.exit_code == 0, result.output
    assert gio.Stream.from_npz(result.stdout_bytes).size == (H, W)
    assert result.stderr.strip() == "gk-complete: 2 images: 5x6 -> centre 3x4"
    other_palette = gio.Stream(indices=np.zeros((2, H, W), np.uint8), palette=np.zeros((7, 3), np.uint8)).to_npz()
    result = runner.invoke(evaluate.app, [str(run_dir), "-"], input=other_palette)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"gk-eval: 2 images: 7 colours mapped onto the model's {K}"


def test_complete_with_a_mask_png(run_dir, tmp_path):
    mask = np.zeros((1, H, W, 3), np.uint8)
    mask[0, :, 0] = 255  # keep the first column, hide the rest
    (tmp_path / "mask.png").write_bytes(gio.encode_png(gio.Stream(images=mask)))
    data = tiny_stream(n=2, seed=4)
    out = runner.invoke(complete.app, [str(run_dir), "-", "--mask", str(tmp_path / "mask.png"), "-k", "1", "-f", "npz"],
                        input=data.to_npz())
    assert out.exit_code == 0, out.output
    done = gio.decode(out.stdout_bytes)
    assert done.mask[:, :, 0].all() and not done.mask[:, :, 1:].any()
    assert np.array_equal(done.indices[:, :, 0], data.indices[:, :, 0])
    blank = tmp_path / "blank.png"
    blank.write_bytes(gio.encode_png(gio.Stream(images=np.zeros((1, H, W, 3), np.uint8))))
    bad = runner.invoke(complete.app, [str(run_dir), "-", "--mask", str(blank)], input=data.to_npz())
    assert bad.exit_code == 2 and "keep some pixels" in bad.stderr


@pytest.mark.parametrize("setting", ["hidden=0", "embed=-3"])
def test_a_setting_the_model_refuses_leaves_no_run_folder(tmp_path, setting):
    out = tmp_path / "runs" / "bad"
    result = runner.invoke(train.app, ["pixelrnn", *TINY, "--set", setting, "--epochs", "1", "-o", str(out)],
                           input=tiny_stream().to_npz())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0
    assert not out.exists() and not (tmp_path / "runs").exists()
