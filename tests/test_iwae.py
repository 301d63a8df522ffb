"""The importance-sampling estimator against a model with a known likelihood.

z ~ N(0, I), x | z ~ N(z, s² I): then p(x) = N(0, (1 + s²) I) and the posterior is
q*(z|x) = N(x / (1 + s²), s² / (1 + s²) I). With q = q* every weight p(x, z)/q(z|x) is p(x), so
the estimate is exact for every k; with another q it is a lower bound in expectation that rises
to log p(x) as k grows.
"""

import math

import numpy as np
import tensorflow as tf

from genkit.models import iwae

S2 = 0.25  # s²
L = 2
X = np.array([[0.0, 0.0], [1.0, -0.5], [2.0, 1.5], [-1.5, 0.3], [3.0, -2.0]], np.float32)


def log_px_exact(x):
    v = 1.0 + S2
    return (-0.5 * (x**2 / v + math.log(2 * math.pi) + math.log(v))).sum(-1)


def estimate(m, logvar, k, seed=0, chunk=None):
    """iwae.estimate on X with q = N(m, exp logvar), through iwae.codes and iwae.log_weights."""
    x = tf.constant(X)
    m, logvar = tf.constant(m, tf.float32), tf.constant(logvar, tf.float32)

    def weights(eps):
        eps = tf.constant(eps)
        z = iwae.codes(m, logvar, eps)
        log_px = tf.reduce_sum(-0.5 * (tf.square(x[:, None, :] - z) / S2 + math.log(2 * math.pi) + math.log(S2)), -1)
        return iwae.log_weights(log_px, z, eps, logvar), log_px

    return iwae.estimate(weights, len(X), k, L, np.random.default_rng(seed), chunk or k)


def test_the_exact_posterior_gives_the_exact_likelihood_for_every_k():
    m = X / (1 + S2)
    logvar = np.full_like(X, math.log(S2 / (1 + S2)))
    for k in (1, 7, 100):
        bound, rec = estimate(m, logvar, k, chunk=3)
        assert bound.shape == rec.shape == (len(X),) and bound.dtype == np.float64
        assert np.allclose(bound, log_px_exact(X), atol=1e-4)
    # the mean log p(x|z) under q*: E[(x - z)²] = (x - m)² + var_q, per dimension
    var_q = S2 / (1 + S2)
    expected = (-0.5 * (((X - m) ** 2 + var_q) / S2 + math.log(2 * math.pi) + math.log(S2))).sum(-1)
    _, rec = estimate(m, logvar, 20_000, chunk=5000)
    assert np.allclose(rec, expected, atol=0.02)


def test_a_poor_proposal_is_a_lower_bound_that_tightens_with_k():
    m, logvar = np.zeros_like(X), np.zeros_like(X)  # q = the prior
    exact = log_px_exact(X)
    means = {k: np.mean([estimate(m, logvar, k, seed=s)[0] for s in range(30)], axis=0) for k in (1, 10, 1000)}
    assert np.all(means[1] < exact) and np.all(means[10] < exact + 1e-3)  # a lower bound in expectation
    assert np.all(means[1] < means[10]) and np.all(means[10] <= means[1000] + 1e-3)  # rising with k
    assert np.allclose(means[1000][:4], exact[:4], atol=0.05)  # and close by k = 1000 (not for x far out)


def test_log_mean_exp_is_stable():
    a = np.array([[1000.0, 1000.0], [-1000.0, -1000.0 + math.log(3)]])
    assert np.allclose(iwae.log_mean_exp(a), [1000.0, -1000.0 + math.log(2)])
