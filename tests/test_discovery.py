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
