"""The vae family's IWAE training objective (--set iwae_k=K) and the conv networks on grey digits."""

import json

import numpy as np
import pytest

from genkit import models
from genkit.errors import GenkitError
from genkit.models.iwae import LOG_2PI
from genkit.train import RunConfig, train
from test_vae import TINY, grey_stream, tiny


def test_the_iwae_objective_with_one_sample_is_the_elbo():
    model = tiny("vae", grey_stream(), arch="mlp")
    x = grey_stream(8, seed=3).indices.astype(np.float32) / 255.0 > 0.5
    x = x.astype(np.float32)
    eps = np.random.default_rng(0).normal(size=(8, 1, 3)).astype(np.float32)
    elbo = np.asarray(model((x, eps[:, 0])))  # the ELBO's terms: reconstruction, KL
    one = np.asarray(model((x, eps)))  # K = 1: reconstruction, KL, −bound
    assert np.allclose(one[:, :2], elbo, rtol=1e-5)
    # −bound = −log p(x|z) − log p(z) + log q(z|x): the ELBO with its KL estimated by the one draw
    m, lv = (np.asarray(t) for t in model.encode(x))
    z = m + np.exp(0.5 * lv) * eps[:, 0]
    log_q_over_p = (-0.5 * (eps[:, 0] ** 2 + LOG_2PI + lv)).sum(-1) + (0.5 * (z**2 + LOG_2PI)).sum(-1)
    assert np.allclose(one[:, 2], elbo[:, 0] + log_q_over_p, rtol=1e-5, atol=1e-4)
    # and in expectation over the draw, the analytic ELBO
    many = np.random.default_rng(1).normal(size=(2000, 1, 3)).astype(np.float32)
    xs = np.repeat(x[:1], 2000, axis=0)
    draws = np.asarray(model((xs, many)))
    analytic = np.asarray(model((xs[:1], np.zeros((1, 3), np.float32))))[0, 1]
    assert abs(draws[:, 2].mean() - (draws[:, 0].mean() + analytic)) < 0.05 * abs(draws[:, 2].mean()) + 0.1


def test_more_samples_give_a_tighter_bound():
    model = tiny("vae", grey_stream(), arch="mlp")
    x = (grey_stream(4, seed=2).indices > 128).astype(np.float32)
    eps = np.random.default_rng(5).normal(size=(4, 16, 3)).astype(np.float32)
    k16 = np.asarray(model((x, eps)))[:, 2]
    singles = np.stack([np.asarray(model((x, eps[:, j : j + 1])))[:, 2] for j in range(16)], 1)
    assert np.all(k16 <= singles.mean(1) + 1e-4)  # Jensen: log of a mean >= the mean of logs
    assert model.loss_fn().name == "elbo"
    assert tiny("vae", grey_stream(), arch="mlp", iwae_k=4).loss_fn().name == "iwae"


@pytest.mark.parametrize("family, arch", [("vae", "conv"), ("cvae", "mlp")])
def test_iwae_training_runs_and_keeps_its_setting(tmp_path, family, arch):
    extra = {"classes": 3} if family == "cvae" else {}
    run = RunConfig(family=family, epochs=2, batch_size=20, lr=3e-3, model=dict(TINY, arch=arch, iwae_k=3, **extra))
    path = train(grey_stream(60), run, tmp_path / "run", progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rows = metrics["epochs"]
    assert all(np.isfinite(r["train_iwae"]) and r["train_iwae"] <= r["train_nelbo"] + 1.0 for r in rows)
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    back = models.load(str(path))
    assert back.config.iwae_k == 3 and back.arch == arch and back.likelihood == "bernoulli"
    assert np.isfinite(back.evaluate_stream(grey_stream(6, seed=7), k=5)["nll_nats"])


def test_iwae_settings_are_checked():
    with pytest.raises(GenkitError, match="iwae_k must be at least 1"):
        tiny("vae", iwae_k=0)
    with pytest.raises(GenkitError, match="leave beta at 1"):
        tiny("vae", iwae_k=4, beta=0.5)
    assert tiny("vae").config.iwae_k == 1 and "iwae_k" in tiny("vae").get_config()
