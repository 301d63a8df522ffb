"""The terminal preview (genkit.preview): what fits one screen, and the half-block drawing."""

import io

import numpy as np
from rich.console import Console

from genkit.preview import HALF, Plan, plan, show


def test_the_plan_fits_one_screen_and_counts_what_it_leaves_out():
    p = plan(64, 20, 20, columns=80, lines=24)
    tile_w, tile_h = 20 * p.scale, 20 * p.scale // 2
    assert p.cols * tile_w + (p.cols - 1) <= 80
    assert (p.shown // p.cols) * tile_h <= 22
    assert 1 <= p.shown < 64 and p.left_out == 64 - p.shown
    assert plan(2, 20, 20, columns=200, lines=60).left_out == 0
    assert plan(5, 20, 20, columns=200, lines=60, cols=2).cols == 2


def test_show_draws_two_pixels_a_cell_in_their_colours():
    img = np.zeros((1, 4, 3, 3), np.uint8)
    img[0, 0] = (255, 0, 0)  # top row red
    img[0, 1] = (0, 0, 255)  # second row blue: the first cell line is red over blue
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=40)
    show(img, Plan(count=1, shown=1, cols=1, scale=1), console)
    text = out.getvalue()
    lines = [line for line in text.splitlines() if HALF in line]
    assert len(lines) == 2 and all(line.count(HALF) == 3 for line in lines)
    assert "38;2;255;0;0" in lines[0] and "48;2;0;0;255" in lines[0]


def test_an_image_command_on_a_terminal_draws_what_fits_and_says_what_it_left_out(data_dir):
    """gk-quantize with stdout a terminal and no -o: the sheet drawn, no binary, one note."""
    import os
    import pty
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sprites = sorted((data_dir / "pokemon" / "sprites").glob("0[0-3]*.png"))[:30]
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "LINES": "24", "PYTHONPATH": str(root)}
    code = "import sys; from cli.quantize import run; sys.argv = ['gk-quantize', *sys.argv[1:]]; run()"
    proc = subprocess.Popen([sys.executable, "-c", code, *map(str, sprites), "--crop", "20", "--colors", "16"], cwd=root,
                            env=env, stdout=follower, stderr=subprocess.PIPE, text=True)
    os.close(follower)
    chunks = []
    while True:  # read as it writes: a full pty would block the child
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    err = proc.stderr.read()
    proc.wait(timeout=60)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, None, err)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert done.returncode == 0, done.stderr
    assert HALF in screen and "PNG" not in screen and "\x89" not in screen
    lines = [line for line in screen.splitlines() if HALF in line]
    assert 0 < len(lines) <= 22
    assert "showing" in done.stderr and "of 30 images" in done.stderr and "-o FILE" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
