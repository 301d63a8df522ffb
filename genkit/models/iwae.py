"""The importance-sampled log-likelihood of a model with a Gaussian code (Burda et al. 2016).

For an encoder q(z|x) = N(m, exp σ) (σ the log-variance), a prior p(z) = N(0, I) and a decoder
p(x|z), the estimate with k draws z_j = m + exp(σ/2)·e_j is

    log (1/k) Σ_j exp(log p(x|z_j) + log p(z_j) − log q(z_j|x))

a lower bound on log p(x) in expectation that rises with k (k = 1 is a one-sample ELBO). The
image and sentence VAEs supply log p(x|z); this module draws the noise, chunked over k so that one
decoder call stays small, and returns the bound with the mean log p(x|z) (the ELBO's
reconstruction term).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import tensorflow as tf

LOG_2PI = math.log(2 * math.pi)


def codes(m, logvar, eps):
    """The draws z (B, k, L) = m + exp(σ/2)·e for m, σ (B, L) and noise eps (B, k, L)."""
    return m[:, None, :] + tf.exp(0.5 * logvar)[:, None, :] * eps


def log_weights(log_px, z, eps, logvar):
    """log p(x|z) + log p(z) − log q(z|x), (B, k), for log p(x|z) (B, k) and the draws z = codes(m, σ, eps)."""
    log_pz = -0.5 * tf.reduce_sum(tf.square(z) + LOG_2PI, axis=-1)
    log_qz = -0.5 * tf.reduce_sum(tf.square(eps) + LOG_2PI + logvar[:, None, :], axis=-1)
    return log_px + log_pz - log_qz


def log_mean_exp(a: np.ndarray) -> np.ndarray:
    """log of the mean of exp(a) over the last axis, without overflow."""
    top = a.max(axis=-1, keepdims=True)
    return top[..., 0] + np.log(np.exp(a - top).mean(axis=-1))


def estimate(weights: Callable[[np.ndarray], tuple], n: int, k: int, latent: int, rng: np.random.Generator,
             chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """The bound (n,) and the mean log p(x|z) (n,) of n examples, float64. ``weights(eps)`` maps
    standard normal noise (n, kk, latent) float32 to (log weights, log p(x|z)), (n, kk) each; it is
    called with kk = ``chunk`` draws at a time (fewer the last time), drawn from ``rng`` in turn."""
    lw_parts, lpx_parts = [], []
    for s in range(0, k, chunk):
        eps = rng.standard_normal((n, min(chunk, k - s), latent)).astype(np.float32)
        lw, lpx = weights(eps)
        lw_parts.append(np.asarray(lw, np.float64))
        lpx_parts.append(np.asarray(lpx, np.float64))
    return log_mean_exp(np.concatenate(lw_parts, axis=1)), np.concatenate(lpx_parts, axis=1).mean(axis=1)
