"""tf.distribute: MirroredStrategy over two logical CPUs trains to the same weights as the
default strategy with the same global batch, for the pixel models and the VAE (each run in a
fresh process, since logical devices must be set up before TensorFlow starts)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # two training processes a case

SCRIPT = r"""
import json, sys
import numpy as np
from genkit.io import Stream
from genkit.train import RunConfig, train
from genkit import models

strategy, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
idx = rng.integers(0, 4, (int(sys.argv[5]), 4, 3)).astype(np.uint8)
stream = Stream(indices=idx, palette=np.arange(12, dtype=np.uint8).reshape(4, 3))
run = RunConfig(family=sys.argv[3], epochs=2, batch_size=8, lr=1e-3, seed=1, strategy=strategy,
                model=json.loads(sys.argv[4]))
train(stream, run, out, progress=False)
m = models.load(out + "/last.keras")
np.savez(out + "/weights.npz", *[np.asarray(w) for w in m.get_weights()])
"""

TINY = {
    "pixelrnn": {"embed": 4, "hidden": 6, "layers": 1, "dropout": 0.0},
    "pixelcnn": {"embed": 4, "channels": 4, "layers": 2, "head": 8, "dropout": 0.0},
    # the VAE's noise e comes from the input pipeline's stateless draws, so it too is the same
    # under any strategy
    "vae": {"latent": 2, "hidden": 8, "arch": "mlp"},
}


# 40 images: every batch splits evenly over the two replicas; 50: the last training batch (5 of
# 45) and the validation batch (5) do not (Keras 3.15 failed on that before genkit.distribute's patch)
@pytest.mark.parametrize("family, images", [(f, 40) for f in sorted(TINY)] + [("vae", 50), ("pixelrnn", 50)])
def test_mirrored_equals_default(tmp_path, family, images):
    weights = {}
    for strategy in ("default", "mirrored"):
        out = tmp_path / strategy
        done = subprocess.run([sys.executable, "-c", SCRIPT, strategy, str(out), family, json.dumps(TINY[family]), str(images)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        with np.load(out / "weights.npz") as f:
            weights[strategy] = [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]
    for a, b in zip(weights["default"], weights["mirrored"]):
        assert np.allclose(a, b, atol=1e-5), np.abs(a - b).max()
    val = [[e["val_loss"] for e in json.loads((tmp_path / s / "metrics.json").read_text())["epochs"]] for s in ("default", "mirrored")]
    assert np.allclose(val[0], val[1], atol=1e-5)  # validation aggregated over the replicas
