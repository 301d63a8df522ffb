"""gk-quantize as a user runs it: CliRunner, real subprocess pipes, bad input, determinism."""

import os
import pty
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.quantize import app
from genkit import io as gio

ROOT = Path(__file__).resolve().parent.parent
GK = [sys.executable, "-m", "cli.quantize"]
runner = CliRunner()


def run(args, **kw):
    return subprocess.run(GK + [str(a) for a in args], cwd=ROOT, capture_output=True, **kw)


def test_help_lists_the_options():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for opt in ("--colors", "--palette", "--save-palette", "--crop", "--resize", "--format", "--seed", "--skip-bad"):
        assert opt in result.output


def test_quantize_never_imports_tensorflow(sprites, tmp_path):
    code = (
        "import sys; from cli.quantize import run; sys.argv = ['gk-quantize', *sys.argv[1:]]\n"
        "try:\n    run()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'tensorflow_datasets') if m in sys.modules))"
    )
    env = dict(os.environ, GENKIT_QUICK_EXIT="0")  # run() returns (SystemExit) instead of ending the process
    out = subprocess.run([sys.executable, "-c", code, str(sprites[0]), "-o", str(tmp_path / "x.npz")],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    out = subprocess.run([sys.executable, "-c", code.replace("*sys.argv[1:]", "'--help'")], cwd=ROOT, capture_output=True,
                         text=True, env=env)
    assert out.stdout.strip().endswith("[]")


def test_pipe_into_python_reader(sprites):
    files = [str(p) for p in sprites]
    producer = subprocess.Popen(GK + files + ["--crop", "20", "--colors", "16"], cwd=ROOT, stdout=subprocess.PIPE)
    reader = subprocess.run(
        [sys.executable, "-c", "import sys; from genkit.io import decode; s = decode(sys.stdin.buffer.read()); "
         "print(s.indices.shape, s.palette.shape, s.meta['palette'])"],
        cwd=ROOT, stdin=producer.stdout, capture_output=True, text=True,
    )
    producer.stdout.close()
    assert producer.wait() == 0
    assert reader.stdout.strip() == f"({len(files)}, 20, 20) (16, 3) fitted-16"


def test_all_sprites_give_the_course_shape(data_dir, tmp_path):
    out = run([data_dir / "pokemon" / "sprites", "--crop", "20", "-o", tmp_path / "p.npz"])
    assert out.returncode == 0, out.stderr
    s = gio.decode((tmp_path / "p.npz").read_bytes())
    assert s.indices.shape == (792, 20, 20) and s.palette.shape == (167, 3)
    assert s.names[0] == "001MS.png" and s.palette[0].tolist() == [255, 255, 255]


def test_stdin_png_and_npz_restream(sprites):
    png = sprites[0].read_bytes()
    first = runner.invoke(app, ["-", "--colors", "8"], input=png)
    assert first.exit_code == 0, first.output
    s = gio.decode(first.stdout_bytes)
    assert s.indices.shape == (1, 40, 40) and len(s.palette) <= 8
    again = runner.invoke(app, ["--palette", "bw"], input=first.stdout_bytes)  # NPZ in, re-mapped
    assert again.exit_code == 0
    assert gio.decode(again.stdout_bytes).palette.tolist() == [[0, 0, 0], [255, 255, 255]]


def test_png_output_round_trips_to_the_same_stream(sprites, tmp_path):
    args = [*map(str, sprites), "--crop", "20", "--colors", "32"]
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "s.npz")]).exit_code == 0
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "s.png"), "--scale", "3"]).exit_code == 0
    npz = gio.decode((tmp_path / "s.npz").read_bytes())
    png = gio.decode((tmp_path / "s.png").read_bytes())
    assert (tmp_path / "s.png").read_bytes()[:8] == gio.PNG_MAGIC
    assert np.array_equal(npz.indices, png.indices) and np.array_equal(npz.palette, png.palette)


def test_seed_determinism_and_saved_palette(sprites, tmp_path):
    args = [*map(str, sprites), "--colors", "24"]
    a = runner.invoke(app, [*args, "--seed", "1", "--save-palette", str(tmp_path / "pal.txt")])
    b = runner.invoke(app, [*args, "--seed", "1"])
    c = runner.invoke(app, [*args, "--seed", "2"])
    assert a.stdout_bytes == b.stdout_bytes
    pa, pc = gio.decode(a.stdout_bytes).palette, gio.decode(c.stdout_bytes).palette
    assert not np.array_equal(pa, pc)
    again = runner.invoke(app, [*map(str, sprites), "--palette", str(tmp_path / "pal.txt")])
    assert np.array_equal(gio.decode(again.stdout_bytes).indices, gio.decode(a.stdout_bytes).indices)


def test_course_palette_file(data_dir, sprites):
    out = runner.invoke(app, [str(sprites[0]), "--crop", "20", "--palette", str(data_dir / "pokemon" / "colormap.txt")])
    assert out.exit_code == 0
    assert gio.decode(out.stdout_bytes).palette.shape == (167, 3)


BAD = {
    "empty.png": b"",
    "text.png": b"not an image at all\n",
    "truncated.png": None,  # filled from a real sprite below
    "corrupt.png": None,
}


def bad_file(tmp_path, kind, sprite: Path) -> Path:
    data = sprite.read_bytes()
    content = {
        "empty.png": b"",
        "text.png": b"not an image at all\n",
        "truncated.png": data[: len(data) // 2],
        "corrupt.png": data[:60] + bytes(40) + data[100:],
        "bomb.png": gio.PNG_MAGIC + bytes.fromhex("0000000d49484452") + (60000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0]),
    }[kind]
    path = tmp_path / kind
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("kind, reason", [("empty.png", "empty file"), ("text.png", "not an image"),
                                          ("truncated.png", "truncated"), ("corrupt.png", "corrupt"),
                                          ("bomb.png", "")])
def test_bad_file_one_line_exit_2_nothing_written(tmp_path, sprites, kind, reason):
    bad = bad_file(tmp_path, kind, sprites[0])
    target = tmp_path / "out.npz"
    out = run([sprites[0], bad, "-o", target], text=True)
    assert out.returncode == 2
    assert out.stderr.startswith(f"gk-quantize: {bad}: ") and reason in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert not target.exists() and out.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [kind]


def test_skip_bad_goes_on_and_counts(tmp_path, sprites):
    bad = bad_file(tmp_path, "truncated.png", sprites[0])
    out = run([sprites[0], sprites[1], bad, "--skip-bad", "-o", tmp_path / "o.npz"], text=True)
    assert out.returncode == 0, out.stderr
    assert "skipped 1 bad file(s) of 3" in out.stderr
    assert len(gio.decode((tmp_path / "o.npz").read_bytes())) == 2


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--crop", "50"], "cannot crop 50x50"),
        (["--crop", "abc"], "--crop must be N or WxH"),
        (["--colors", "0"], "between 1 and 256"),
        (["--format", "gif"], "--format must be npz or png"),
        (["--palette", "nope"], "no such palette"),
        (["--colors", "4", "--palette", "bw"], "not both"),
        (["-o", "/no/such/dir/out.npz"], "folder does not exist"),
    ],
)
def test_bad_options(sprites, args, msg):
    out = run([sprites[0], *args], text=True)
    assert out.returncode == 2 and msg in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_mixed_sizes_need_crop_or_resize(tmp_path, sprites):
    big = gio.encode_png(gio.Stream(images=np.zeros((1, 50, 50, 3), np.uint8)))
    (tmp_path / "big.png").write_bytes(big)
    out = run([sprites[0], tmp_path / "big.png"], text=True)
    assert out.returncode == 2 and "--crop or --resize" in out.stderr
    ok = run([sprites[0], tmp_path / "big.png", "--resize", "20", "-o", tmp_path / "o.npz"], text=True)
    assert ok.returncode == 0, ok.stderr
    assert gio.decode((tmp_path / "o.npz").read_bytes()).indices.shape == (2, 20, 20)


def test_draws_instead_of_writing_binary_to_a_terminal(sprites):
    leader, follower = pty.openpty()
    try:
        out = subprocess.run(GK + [str(sprites[0]), "--colors", "8"], cwd=ROOT, stdout=follower, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "COLUMNS": "100", "LINES": "40"})
    finally:
        os.close(follower)
        os.close(leader)
    assert out.returncode == 0 and "drawn in the terminal" in out.stderr and "-o FILE" in out.stderr


def test_missing_input_and_no_stdin():
    out = run(["/no/such/file.png"], text=True)
    assert out.returncode == 2 and out.stderr == "gk-quantize: /no/such/file.png: no such file or folder\n"


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "gk-quantize"
    if not script.exists():
        pytest.skip("package not installed in this interpreter's environment")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Usage: gk-quantize" in out.stdout
