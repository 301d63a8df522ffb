"""The lecture's "why VAE" figure: moons.

An autoencoder trained on a full moon and a half moon puts each at some code; nothing asks the
points between the two codes to decode to anything. A VAE adds noise to the code, so the
decoder must draw something that serves both neighbours there — and between the full and the
half moon that is a moon in between. This script draws the moons itself, trains a small AE and
a small VAE on the two images with genkit's own loop, decodes the line between the two codes,
and writes both strips (AE above, VAE below) with, for every frame, how far it is from the
nearest true moon phase:

    python scripts/moon.py -o figures/moon.png      (make figures)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python scripts/moon.py` works without PYTHONPATH

from genkit import models  # noqa: E402
from genkit.io import Stream, encode_png, write_file_atomic  # noqa: E402
from genkit.palettes import grey256  # noqa: E402
from genkit.train import RunConfig, train  # noqa: E402

SIZE = 24
LIT, DARK = 235, 40  # grey levels of the lit side and of the moon's dark side (earthshine)


def phase(k: float, size: int = SIZE) -> np.ndarray:
    """A moon lit from the right, (size, size) grey levels: k = 1 full, k = 0 half, in between
    a gibbous moon whose terminator is the half-ellipse x = −k·sqrt(R² − y²)."""
    r = size / 2 - 1.5
    c = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    x, y = x - c, y - c
    inside = x**2 + y**2 <= r**2
    terminator = -k * np.sqrt(np.clip(r**2 - y**2, 0, None))
    lit = inside & (x >= terminator)
    out = np.zeros((size, size), np.uint8)
    out[inside] = DARK
    out[lit] = LIT
    return out


def training_stream(phases=(1.0, 0.0), copies: int = 100) -> Stream:
    """The moons of ``phases`` (default: the full and the half moon), in turn, ``copies`` times each."""
    idx = np.stack([phase(k) for k in phases] * copies)
    return Stream(indices=idx, palette=grey256(), meta={"source": "scripts/moon.py"})


def distance_to_phases(frames: np.ndarray, grid: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """For each frame (N, H, W grey levels): the RMS distance (grey levels) to the nearest true
    phase k in [0, 1], and that k."""
    ks = np.linspace(0.0, 1.0, grid)
    bank = np.stack([phase(k) for k in ks]).astype(np.float64)
    d = np.sqrt(((frames[:, None].astype(np.float64) - bank[None]) ** 2).mean(axis=(2, 3)))
    return d.min(axis=1), ks[d.argmin(axis=1)]


def make_figure(out: Path, *, steps: int = 8, epochs: int = 40, seed: int = 0, phases=(1.0, 0.0), log=print) -> dict:
    data = training_stream(phases, copies=max(1, 200 // len(phases)))
    full, half = Stream(indices=phase(1.0)[None], palette=grey256()), Stream(indices=phase(0.0)[None], palette=grey256())
    settings = {"latent": 2, "hidden": 64, "arch": "mlp"}
    strips, report = [], {"phases": [float(k) for k in phases], "steps": steps, "epochs": epochs, "seed": seed, "settings": settings}
    with tempfile.TemporaryDirectory() as tmp:
        for family in ("ae", "vae"):
            path = train(data, RunConfig(family=family, epochs=epochs, batch_size=20, lr=3e-3, seed=seed, model=settings),
                         Path(tmp) / family, progress=False)
            net = models.load(str(path))
            strip = net.interpolate_stream(full, half, steps)
            dist, nearest = distance_to_phases(strip.indices)
            strips.append(strip.indices)
            report[family] = {"rms_to_nearest_phase": [round(float(v), 1) for v in dist],
                              "nearest_phase": [round(float(v), 3) for v in nearest],
                              "mean_rms_inner_frames": round(float(dist[1:-1].mean()), 1)}
            log(f"{family}: RMS grey-level distance of each frame to the nearest true phase: "
                + " ".join(f"{v:.0f}" for v in dist))
    sheet = Stream(indices=np.concatenate(strips), palette=grey256())
    write_file_atomic(out, encode_png(sheet, cols=steps, scale=4))
    write_file_atomic(out.with_suffix(".json"), (json.dumps(report, indent=1) + "\n").encode())
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description="Write the AE-vs-VAE moon figure (AE strip above, VAE strip below).")
    ap.add_argument("-o", "--output", type=Path, default=Path("figures/moon.png"))
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--phases", default="1,0", help="training phases, comma-separated (1 full, 0 half)")
    args = ap.parse_args()
    make_figure(args.output, steps=args.steps, epochs=args.epochs, seed=args.seed,
                phases=tuple(float(v) for v in args.phases.split(",")))


if __name__ == "__main__":
    main()
