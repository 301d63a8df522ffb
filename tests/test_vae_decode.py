"""--decode on a VAE's images: greedy (argmax), mean (expected colour in LCh, on the palette), sample."""

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import interp, sample
from genkit import io as gio
from genkit.color import srgb_to_lab
from genkit.errors import GenkitError
from genkit.models.vae import decoding
from test_cli_vae import pair_file, runs  # noqa: F401  (the module's fixture: tiny trained runs)
from test_vae import H, W, grey_stream, tiny

runner = CliRunner()
# black, white, a red and a green of like lightness and chroma, their grey, and a darker orange
PALETTE = np.array([[0, 0, 0], [255, 255, 255], [200, 60, 60], [60, 140, 60], [128, 112, 80], [160, 90, 30]], np.uint8)


def logits_for(p):
    return np.log(np.asarray(p, np.float64) + 1e-12).astype(np.float32)


def test_greedy_is_the_argmax_and_sample_follows_the_probabilities():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4, 5, len(PALETTE))).astype(np.float32)
    assert np.array_equal(decoding.palette_pixels(logits, PALETTE, "greedy", rng), logits.argmax(-1))
    p = [0.1, 0.0, 0.6, 0.3, 0.0, 0.0]
    draws = decoding.palette_pixels(np.tile(logits_for(p), (20000, 1)), PALETTE, "sample", np.random.default_rng(1))
    assert np.allclose(np.bincount(draws, minlength=len(p)) / 20000, p, atol=0.015)
    again = decoding.palette_pixels(np.tile(logits_for(p), (20000, 1)), PALETTE, "sample", np.random.default_rng(1))
    assert np.array_equal(draws, again)  # same seed, same draws


def test_mean_keeps_chroma_where_the_lab_mean_averages_hues_to_grey():
    lab = srgb_to_lab(PALETTE)
    one = decoding.palette_pixels(logits_for([0, 0, 0, 0, 0, 1])[None], PALETTE, "mean", None)
    assert one[0] == 5  # a sure colour is itself
    mix = np.array([0, 0, 0.5, 0.5, 0, 0])
    ours = decoding.palette_pixels(logits_for(mix)[None], PALETTE, "mean", None)[0]
    plain = decoding.nearest(mix @ lab, lab)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    assert chroma[ours] > 20 and chroma[plain] < chroma[ours]
    expected = decoding.expected_lch(mix[None].astype(np.float32), lab)[0]
    assert np.isclose(expected[0], mix @ lab[:, 0], atol=1e-3)  # mean lightness
    assert np.isclose(np.hypot(*expected[1:]), mix @ chroma, atol=1e-3)  # mean chroma, not the chroma of the mean


def test_bernoulli_mean_is_the_ink_probability_as_before():
    logits = np.float32([[-80.0, -1.0, 0.0, 0.3, 70.0]])
    before = np.rint(255.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))).astype(np.uint8)
    assert np.array_equal(decoding.ink_levels(logits, "mean", None), before)
    assert list(decoding.ink_levels(logits, "greedy", None)[0]) == [0, 0, 0, 255, 255]
    assert set(decoding.ink_levels(logits, "sample", np.random.default_rng(0)).ravel()) <= {0, 255}


def test_the_model_decodes_as_told_and_checks_the_value():
    model = tiny()
    z = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    greedy = model.decode_codes(z, decode="greedy").indices
    assert np.array_equal(greedy, np.asarray(model.decode(z)).argmax(-1))
    assert np.array_equal(model.decode_codes(z).indices, model.decode_codes(z, decode="mean").indices)  # the default
    s1, s2 = (model.decode_codes(z, decode="sample", seed=4).indices for _ in range(2))
    assert np.array_equal(s1, s2)
    assert model.sample_stream(3, seed=2, decode="greedy").indices.shape == (3, H, W)
    for call in (lambda: model.decode_codes(z, decode="beam"), lambda: model.grid_stream((0, 1), -1, 1, 2, decode="x"),
                 lambda: model.sample_stream(2, decode="argmax")):
        with pytest.raises(GenkitError, match="--decode for images must be greedy, mean or sample"):
            call()
    grey = tiny(stream=grey_stream(), arch="mlp")  # a Bernoulli decoder: mean is today's picture
    assert np.array_equal(grey.decode_codes(z).indices, grey.decode_codes(z, decode="mean").indices)


def test_cli_decode_on_grid_sample_and_interp(runs, tmp_path):  # noqa: F811
    sheets = {}
    for how in ("greedy", "mean", "sample"):
        out = runner.invoke(sample.app, [str(runs["vae"]), "--grid", "0,1", "--steps", "3", "--decode", how, "-f", "npz"])
        assert out.exit_code == 0, out.output
        sheets[how] = gio.decode(out.stdout_bytes).indices
        assert sheets[how].shape == (9, H, W)
    default = runner.invoke(sample.app, [str(runs["vae"]), "--grid", "0,1", "--steps", "3", "-f", "npz"])
    assert np.array_equal(gio.decode(default.stdout_bytes).indices, sheets["mean"])
    out = runner.invoke(sample.app, [str(runs["vae"]), "-n", "4", "--decode", "sample", "--seed", "1", "-f", "npz"])
    assert out.exit_code == 0 and gio.decode(out.stdout_bytes).indices.shape == (4, H, W)
    pair = pair_file(tmp_path)
    a, b = (runner.invoke(interp.app, [str(runs["vae"]), str(pair), "--steps", "3", "--decode", "sample", "--seed", "2",
                                       "-f", "npz"]) for _ in range(2))
    assert a.exit_code == 0, a.output
    assert a.stdout_bytes == b.stdout_bytes
    bad = runner.invoke(sample.app, [str(runs["vae"]), "--grid", "0,1", "--decode", "beam", "-o", str(tmp_path / "x.png")])
    assert bad.exit_code == 2 and "--decode for images must be greedy, mean or sample" in bad.stderr
    assert not (tmp_path / "x.png").exists()
