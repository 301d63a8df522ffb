"""Finding one's way: python -m genkit, the zoo listing (--list), without TensorFlow."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_python_m_genkit_lists_every_command_without_tensorflow():
    code = "import runpy, sys; runpy.run_module('genkit', run_name='__main__')"
    out = subprocess.run([sys.executable, "-c", code + "\nprint('TF', 'tensorflow' in sys.modules)"],
                         cwd=ROOT, capture_output=True, text=True)
    for name in ("gk-quantize", "gk-train", "gk-sample", "gk-complete", "gk-interp", "gk-eval"):
        assert name in out.stdout
    assert "gk-sample    draw new images from a trained model." in out.stdout


def test_the_listing_names_families_and_shipped_checkpoints_with_their_card_figure():
    from genkit import catalog, models

    text = catalog.listing()
    for name in models.names():
        assert f"  {name}  " in text or f"  {name} " in text
    cards = {c.name: c for c in catalog.checkpoints()}
    assert cards["pokemon-pixelcnn"].family == "pixelcnn"
    shipped = (ROOT / "checkpoints" / "pokemon-pixelcnn.md").read_text()
    figure = cards["pokemon-pixelcnn"].headline.split()[-2]  # "test NLL 2.3663 bits/px"
    assert f"**{figure} bits/px**" in shipped
    assert "pokemon-pixelcnn     pixelcnn (= pixelcnn): test NLL" in text
    only = catalog.listing(lambda n: n.startswith("pixel"))
    assert "vae  " not in only and "mnist-vae" not in only and "pokemon-pixelrnn" in only


def test_every_command_has_clean_usage_version_completion_and_one_example_a_line():
    from typer.testing import CliRunner

    from cli import complete, interp, quantize, sample, train
    from cli import eval as evaluate

    runner = CliRunner()
    for name, module in (("gk-quantize", quantize), ("gk-train", train), ("gk-sample", sample),
                         ("gk-complete", complete), ("gk-interp", interp), ("gk-eval", evaluate)):
        shown = runner.invoke(module.app, ["--help"], prog_name=name)
        assert shown.exit_code == 0
        usage = shown.stdout.splitlines()[0]
        assert usage.startswith(f"Usage: {name} [OPTIONS]") and "{" not in usage and "<" not in usage, usage
        assert "<str>" not in shown.stdout and "<list[str]>" not in shown.stdout
        assert "--install-completion" in shown.stdout and "--version" in shown.stdout
        examples = shown.stdout.split("Examples:")[1].split("Arguments:")[0].split("Options:")[0]
        lines = [line.strip() for line in examples.strip().splitlines()]
        assert lines and all(line.startswith("gk-") for line in lines), lines  # one whole command a line
        version = runner.invoke(module.app, ["--version"], prog_name=name)
        assert version.exit_code == 0 and version.stdout.startswith("genkit ")


def test_list_names_the_models_a_command_takes():
    from typer.testing import CliRunner

    from cli import complete, train

    runner = CliRunner()
    pixel = runner.invoke(complete.app, ["--list"])
    assert pixel.exit_code == 0 and "pixelcnn" in pixel.stdout and "pokemon-pixelrnn" in pixel.stdout
    assert "  vae " not in pixel.stdout and "mnist-vae" not in pixel.stdout  # no completion: not listed
    families = runner.invoke(train.app, ["--list"])
    assert families.exit_code == 0 and "sentence-vae" in families.stdout and "classifier" in families.stdout
