"""How real do generated digits look? A Fréchet distance in a classifier's feature space, and
the label histogram of the samples.

The judge is a small MNIST classifier trained by genkit itself (the ``classifier`` family,
shipped as ``checkpoints/mnist-classifier.keras``). Each image becomes the activations of its
penultimate layer; a set of images becomes the mean m and covariance C of those features, and
two sets are as far apart as the two Gaussians N(m1, C1), N(m2, C2) are in the Fréchet
(2-Wasserstein) distance (Heusel et al. 2017, "FID", with this classifier standing in for
Inception):

    d² = |m1 − m2|² + tr C1 + tr C2 − 2 tr (C1^½ C2 C1^½)^½

(reported as d², the usual "FID" number). The matrix square roots are taken by ``numpy.linalg.eigh`` of
symmetric positive semi-definite matrices in float64, with negative round-off eigenvalues
clipped to zero, so no scipy and no complex numbers. The same classifier labels each sample:
a generator that has collapsed onto a few modes shows a skewed histogram, whose entropy falls
below log 10 = 2.303 nats.

Colour images (Pokemon sprites) have no classifier that none of the compared models was
trained with, so their judge is :class:`RandomFeatures`: a fixed convolutional network whose
weights are drawn from a seed and never trained (random convolutional features are a known
stand-in for learned ones in two-sample tests; see Naeem et al. 2020, "Reliable fidelity and
diversity metrics", on random-embedding FID). It favours no model and needs no download.

Nothing here downloads anything; the judge is a local checkpoint or a seed.
"""

from __future__ import annotations

import math

import numpy as np

from . import models
from .color import grey_levels
from .errors import GenkitError
from .io import Stream

#: the zoo name whose shipped checkpoint is the judge
JUDGE = "classifier"


# -- the distance ----------------------------------------------------------------------------
def stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of features (N, d), float64 (unbiased, N − 1)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise GenkitError(f"need at least two feature vectors (N, d), got shape {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def sqrt_psd(c: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix, by eigh."""
    c = 0.5 * (np.asarray(c, np.float64) + np.asarray(c, np.float64).T)
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(c1: np.ndarray, c2: np.ndarray) -> float:
    """tr (C1 C2)^½ = tr (C1^½ C2 C1^½)^½: the eigenvalues of C1 C2 are those of the
    symmetric C1^½ C2 C1^½, which eigh takes exactly."""
    s1 = sqrt_psd(c1)
    m = s1 @ np.asarray(c2, np.float64) @ s1
    w = np.linalg.eigvalsh(0.5 * (m + m.T))
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def frechet(mu1, c1, mu2, c2) -> float:
    """Squared Fréchet distance between N(mu1, c1) and N(mu2, c2); >= 0 up to round-off."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    d = float(np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2) - 2.0 * trace_sqrt_product(c1, c2))
    return max(d, 0.0)


def frechet_features(a: np.ndarray, b: np.ndarray) -> float:
    """Squared Fréchet distance between two sets of feature vectors."""
    return frechet(*stats(a), *stats(b))


# -- images -> features ----------------------------------------------------------------------
def load_judge(spec: str | None = None):
    """The classifier that judges realness: a checkpoint path, or the shipped one."""
    model = models.load(spec or JUDGE)
    if not isinstance(model, models.get("classifier")):
        raise GenkitError(f"the judge must be a classifier, not a {model.family} model", source=spec)
    return model


class RandomFeatures:
    """A judge for colour images: a fixed random conv net, in numpy (float64 weights from the
    seed, He-scaled normal). RGB in [-1, 1] -> three 3x3 convs (32, 64, 128 channels, ReLU), each
    of the first two followed by 2x2 average pooling -> the last layer's mean over positions
    and its 2x2-pooled map's mean-and-max: 128 + 128 features per image. No labels."""

    classes = None
    widths = (32, 64, 128)

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.seed, self.weights, c = int(seed), [], 3
        for w in self.widths:
            self.weights.append(rng.standard_normal((3, 3, c, w)) * math.sqrt(2.0 / (9 * c)))
            c = w
        self.checkpoint_path = f"random conv features (seed {self.seed})"

    @staticmethod
    def _conv(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        """3x3 'same' convolution of x (N, H, W, C) by k (3, 3, C, D), then ReLU."""
        n, h, w, _ = x.shape
        p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        out = np.zeros((n, h, w, k.shape[-1]))
        for dy in range(3):
            for dx in range(3):
                out += p[:, dy : dy + h, dx : dx + w, :] @ k[dy, dx]
        return np.maximum(out, 0.0)

    @staticmethod
    def _pool(x: np.ndarray) -> np.ndarray:
        n, h, w, c = x.shape
        x = x[:, : h - h % 2, : w - w % 2]
        return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))

    def features(self, stream: Stream, batch_size: int = 256) -> np.ndarray:
        """Features (N, 256) of the stream's images."""
        rgb = stream.palette[stream.indices] if stream.is_palette else stream.images
        out = []
        for i in range(0, len(rgb), batch_size):
            x = rgb[i : i + batch_size].astype(np.float64) / 127.5 - 1.0
            if x.shape[-1] == 4:
                x = x[..., :3]
            for j, k in enumerate(self.weights):
                x = self._conv(x, k)
                if j < 2:
                    x = self._pool(x)
            out.append(np.concatenate([x.mean(axis=(1, 2)), x.max(axis=(1, 2))], axis=1))
        return np.concatenate(out) if out else np.zeros((0, 2 * self.widths[-1]))


def entropy(counts: np.ndarray) -> float:
    """Entropy in nats of a histogram."""
    p = np.asarray(counts, np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())


def describe(judge, stream: Stream, batch_size: int = 256) -> dict:
    """What the judge sees of a set: features (N, d), predicted labels (N,) (None without classes)."""
    if isinstance(judge, RandomFeatures):
        return {"features": judge.features(stream, batch_size), "labels": None}
    x = grey_levels(stream, judge.height, judge.width)
    feats, labels = judge.features_and_labels(x, batch_size=batch_size)
    return {"features": feats, "labels": labels}


def compare(judge, samples: Stream, reference: Stream | None = None, *, ref_stats=None, batch_size: int = 256) -> dict:
    """The realness of ``samples`` against ``reference`` (or its precomputed ``ref_stats``,
    (mean, cov)): the squared Fréchet distance and the samples' label histogram."""
    seen = describe(judge, samples, batch_size)
    if ref_stats is None:
        if reference is None:
            raise GenkitError("compare needs a reference set or its statistics")
        ref_stats = stats(describe(judge, reference, batch_size)["features"])
    result = {"frechet": frechet(*stats(seen["features"]), *ref_stats), "samples": len(samples)}
    if seen["labels"] is None:
        return result
    hist = np.bincount(seen["labels"], minlength=judge.classes)
    return {
        **result,
        "histogram": [int(v) for v in hist],
        "label_entropy": entropy(hist),
        "max_entropy": math.log(judge.classes),
    }
