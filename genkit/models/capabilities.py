"""What a model can do, one interface per capability, and what an evaluation reports.

A family says what it can do by its base classes (``class GAN(Trainable, Samples, ...)``); the
commands and the model-card script ask for a capability with :func:`require`, which refuses a
model that lacks it in one line naming the zoo's models that have it. Nothing here dispatches on
a family's name, and nothing imports TensorFlow.

========================  ======================================  =========================
capability                method (one signature)                  used by
========================  ======================================  =========================
:class:`Samples`          ``sample_stream(n, *, temperature, ...)``  gk-sample
:class:`SweepsCode`       ``grid_stream(dims, lo, hi, steps, ...)``  gk-sample --grid
:class:`Conditional`      ``style_stream(images, labels, label)``    gk-sample --labels, gk-interp --style
:class:`Completes`        ``complete_stream(stream, *, keep, ...)``  gk-complete
:class:`Refines`          ``steps=`` of the two above                gk-sample/gk-complete --steps
:class:`Interpolates`     ``interpolation_ends``, ``interpolate``    gk-interp
:class:`Evaluates`        ``evaluate_stream(data, *, ...)``          gk-eval, model cards
========================  ======================================  =========================

``evaluate_stream`` returns an :class:`Evaluation`: a ``dict`` of the numbers (its keys are
gk-eval's ``--json``) of one kind, which prints its line and fills a model card's rows.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import GenkitError
from . import FAMILIES, get

if TYPE_CHECKING:
    import numpy as np

    from ..io import Stream
    from ..text import Sentences

Progress = Callable[[int], None]


class Capability(ABC):
    """A thing a model can do; ``needs`` completes "gk-... needs ..." in :func:`require`'s refusal."""

    needs = "a model that can do this"


class Samples(Capability):
    needs = "a model that draws samples"

    @abstractmethod
    def sample_stream(self, n: int, *, temperature: float = 1.0, seed: int = 0, batch_size: int = 64,
                      progress: Progress | None = None, **options) -> Stream | Sentences:
        """gk-sample: ``n`` new examples (images as a Stream, sentences as Sentences); the same
        seed and options give the same examples. ``options``: a conditional model's ``labels``."""


class SweepsCode(Capability):
    needs = "a model with a code"

    @abstractmethod
    def grid_stream(self, dims: tuple[int, int], lo: float, hi: float, steps: int, *, at: Stream | None = None,
                    label: int | None = None) -> Stream:
        """gk-sample --grid: decode a steps x steps sheet sweeping code dimensions ``dims`` over
        [lo, hi], the others fixed (at 0, or at the code of the image ``at``)."""


class Conditional(Capability):
    needs = "a conditional model"

    @abstractmethod
    def style_stream(self, images: Stream, labels, label: int | None = None) -> Stream:
        """gk-interp --style: each image's code decoded with each of ``labels``, a row per image."""


class Completes(Capability):
    needs = "a pixel model"

    @abstractmethod
    def as_model_stream(self, stream: Stream, note: Callable[[str], None] | None = None) -> Stream:
        """The stream on the model's image size and palette (genkit.adapt); ``note`` hears what
        was done to it."""

    @abstractmethod
    def complete_stream(self, stream: Stream, *, keep: float = 0.5, mask: np.ndarray | None = None, k: int = 1,
                        temperature: float = 1.0, seed: int = 0, batch_size: int = 64,
                        progress: Progress | None = None) -> Stream:
        """gk-complete: keep the first ``keep`` of each image in raster order (or the True pixels
        of ``mask``) and draw the rest, ``k`` times per image; the result carries its ``mask``."""


class Refines(Capability):
    """Draws in a number of parallel refinement steps: its ``sample_stream`` and
    ``complete_stream`` take ``steps`` (None: the model's default)."""

    needs = "a model that draws in refinement steps"


def random_keep(height: int, width: int, share: float, seed: int = 0) -> np.ndarray:
    """gk-complete --keep-random: a (height, width) mask keeping round(share * H * W) pixels
    chosen at random from ``seed`` (True = kept)."""
    import numpy as np

    if not 0 < share <= 1:
        raise GenkitError(f"--keep-random must be in (0, 1], got {share}")
    hw = height * width
    mask = np.zeros(hw, dtype=bool)
    mask[np.random.default_rng(seed).permutation(hw)[: max(1, round(share * hw))]] = True
    return mask.reshape(height, width)


class Interpolates(Capability):
    """gk-interp: the points on the line between two ends, both included. The model says what
    its ends are: it reads them from the command's arguments."""

    needs = "a model with a code"

    @abstractmethod
    def interpolation_ends(self, args: list[str], **options) -> tuple:
        """The two ends, read from the command's positional ``args`` and its ``options``
        (``seed_a``, ``seed_b``); GenkitError when they are not two ends of this model's kind."""

    @abstractmethod
    def interpolate(self, a, b, steps: int, **options) -> Stream | Sentences:
        """``steps`` evenly spaced points from ``a`` to ``b``, decoded. ``options`` (each model
        reads those it knows): ``decode``, ``temperature``, ``seed``, ``warn``."""


class Evaluates(Capability):
    needs = "a model that can be evaluated"

    @abstractmethod
    def evaluate_stream(self, data, batch_size: int = 64, *, k: int | None = None, seed: int = 0,
                        progress: Progress | None = None) -> Evaluation:
        """gk-eval: the model's figures on ``data`` (a Stream, or Sentences for a sentence model).
        ``k``: importance samples of an estimated likelihood [default: the model's]; ``seed``:
        any randomness of the measurement; ``progress(n)`` as examples are scored."""


def having(capability: type) -> list[str]:
    """The zoo's families (CLI names) whose models have ``capability``; imports every family."""
    return [name for name in FAMILIES if issubclass(get(name), capability)]


def require(model, capability: type, *, command: str, verb: str = "needs"):
    """``model`` if it has ``capability``, else GenkitError: "COMMAND needs CAPABILITY (the zoo's
    models that have it), but this is a FAMILY model"."""
    if isinstance(model, capability):
        return model
    raise GenkitError(f"{command} {verb} {capability.needs} ({', '.join(having(capability))}), "
                      f"but this is a {model.family} model", source=getattr(model, "checkpoint_path", None))


# -- evaluation results ---------------------------------------------------------------------------
class Evaluation(dict):
    """A model's figures on a data set: its keys are gk-eval's ``--json``; each kind of result
    prints its line (``line``) and fills a model card (``card_rows``). gk-eval adds ``data``."""

    #: the examples are images (a card lists --flip among the settings), not sentences
    of_images = True

    @property
    def count(self) -> int:
        """How many examples were scored."""
        return self["images"] if self.of_images else self["sentences"]

    def line(self) -> str:
        """gk-eval's one line."""
        raise NotImplementedError

    def to_json(self) -> str:
        """gk-eval --json: one object, keys sorted."""
        return json.dumps(self, sort_keys=True)

    def card_rows(self, metrics: dict, model, measure: Callable[[str], Evaluation]) -> tuple[str, list[str], str]:
        """A model card's parts for this test result: (extra settings text, table rows, per-epoch
        history). ``metrics`` is the run folder's metrics.json, ``model`` the shipped model,
        ``measure(split)`` evaluates it on another split of the same data set."""
        raise NotImplementedError

    def _best(self, metrics: dict, how: str = "") -> str:
        n, since = len(metrics["epochs"]), metrics.get("best_from") or 0
        if since:  # a resume changed the loss: the epochs before do not compare
            among = f", among epochs {since + 1}-{n}, those trained with this loss"
            how = f"{how[:-1]}{among})" if how.endswith(")") else f"{how} ({among[2:]})"
        return f"| best epoch | {metrics['best_epoch']} of {n}{how} |"


class PixelNLL(Evaluation):
    """A pixel model's exact negative log-likelihood."""

    def line(self) -> str:
        return (f"{self['bits_per_pixel']:.4f} bits/px  {self['nats_per_image']:.2f} nats/image  "
                f"{self['images']} images  {self['model']}  {self['data']}")

    def card_rows(self, metrics, model, measure):
        val = measure("val")
        rows = [
            self._best(metrics),
            f"| **test NLL** | **{self['bits_per_pixel']:.4f} bits/px** ({self['nats_per_image']:.1f} nats/image) |",
            f"| val NLL | {val['bits_per_pixel']:.4f} bits/px |",
        ]
        history = "Per epoch (bits/px): " + ", ".join(
            f"{r['epoch']}: {r['train_bits_per_pixel']:.3f}/{r['val_bits_per_pixel']:.3f}" for r in metrics["epochs"]) + " (train/val)"
        return "", rows, history


def _elbo_history(metrics: dict) -> str:
    return "Per epoch (every 10th, and the best), −ELBO in nats/image (train/val): " + ", ".join(
        f"{r['epoch']}: {r.get('train_nelbo', r['train_loss']):.1f}/{r.get('val_nelbo', r['val_loss']):.1f}"
        for r in metrics["epochs"] if r["epoch"] % 10 == 0 or r["epoch"] in (1, metrics["best_epoch"]))


class ImageIWAE(Evaluation):
    """An image VAE's importance-sampled likelihood (the IWAE bound), −ELBO, KL and active units."""

    def line(self) -> str:
        return (f"NLL {self['nll_nats']:.2f} nats/image (IWAE k={self['k']})  -ELBO {self['nelbo_nats']:.2f}  "
                f"KL {self['kl_nats']:.2f}  active units {self['active_units']}/{self['latent']}  "
                f"{self['bits_per_pixel']:.4f} bits/px  {self['images']} images  {self['model']}  {self['data']}")

    def card_rows(self, metrics, model, measure):
        rows = [
            self._best(metrics, " (by validation loss)"),
            f"| **test NLL** | **{self['nll_nats']:.2f} nats/image** (IWAE bound, k = {self['k']}; {self['bits_per_pixel']:.4f} bits/px)"
            + (" — conditional on the label, −log p(x | y)" if isinstance(model, Conditional) else "") + " |",
            f"| test −ELBO | {self['nelbo_nats']:.2f} nats/image (reconstruction {self['rec_nats']:.2f} + KL {self['kl_nats']:.2f}) |",
            f"| active units | {self['active_units']} of {self['latent']} (Cov_x E_q[z_u] > 0.01) |",
            f"| KL per code dimension | {', '.join(f'{v:.2f}' for v in self['kl_per_dim'])} |",
        ]
        return f"decoder likelihood {model.likelihood}; ", rows, _elbo_history(metrics)


class Reconstruction(Evaluation):
    """An autoencoder's reconstruction error: it has no likelihood."""

    def line(self) -> str:
        return (f"reconstruction {self['rec_nats']:.2f} nats/image  {self['bits_per_pixel']:.4f} bits/px  "
                f"{self['images']} images  {self['model']} (no likelihood: not a probabilistic model)  {self['data']}")

    def card_rows(self, metrics, model, measure):
        rows = [
            self._best(metrics, " (by validation loss)"),
            f"| test reconstruction | {self['rec_nats']:.2f} nats/image ({self['bits_per_pixel']:.4f} bits/px; an AE has no likelihood) |",
        ]
        return f"decoder likelihood {model.likelihood}; ", rows, _elbo_history(metrics)


def _sentence_selection(config) -> str:
    """How a sentence model's best epoch was picked: its validation loss, which is the -ELBO
    unless free bits (kl_floor) or a bag-of-words loss are on."""
    floor, bow = getattr(config, "kl_floor", 0.0) or 0.0, getattr(config, "bow", 0.0) or 0.0
    per_token = getattr(config, "kl_floor_token", 0.0) or 0.0
    if not floor and not bow and not per_token:
        return " (by validation -ELBO, KL weight 1)"
    floors = ([f"{floor:g}"] if floor else []) + ([f"{per_token:g} x tokens"] if per_token else [])
    kl = f"max(KL, {', '.join(floors)})" if floors else "KL"
    terms = ["reconstruction", kl] + ([f"{bow:g} x bag-of-words NLL"] if bow else [])
    return f" (by validation loss: {' + '.join(terms)})"


class SentenceNLL(Evaluation):
    """A sentence model's NLL (IWAE for a VAE, exact for a language model), −ELBO, KL, perplexity;
    a VAE's also its reconstruction (``exact_lines``, ``token_accuracy``, a character model's
    ``by_length``: greedy decoding of the posterior mean, as gk-interp decodes its ends)."""

    of_images = False

    def line(self) -> str:
        how = f"IWAE k={self['k']}" if self["latent"] else "exact"
        return (f"NLL {self['nll_nats']:.2f} nats/sentence ({how})  -ELBO {self['nelbo_nats']:.2f}  KL {self['kl_nats']:.2f}  "
                f"perplexity {self['ppl']:.1f}  {self._reconstruction(short=True)}{self['sentences']} sentences  "
                f"{self['model']}  {self['data']}")

    def _reconstruction(self, short: bool = False) -> str:
        """The reconstruction figures ("" for a language model, or a result without them)."""
        if "exact_lines" not in self:
            return ""
        by = sorted(self.get("by_length", {}).items(), key=lambda kv: int(kv[0]))

        def figure(key: str) -> str:
            each = ", ".join(f"{n} chars {100 * f[key]:.1f}%" for n, f in by)
            return f"{100 * self[key]:.1f}%" + (f" ({each})" if each else "")

        text = f"exact lines {figure('exact_lines')}, token accuracy {figure('token_accuracy')}"
        return f"reconstruction: {text}  " if short else text

    def card_rows(self, metrics, model, measure):
        how = f"IWAE bound, k = {self['k']}" if self["latent"] else "exact"
        rows = [
            self._best(metrics, _sentence_selection(getattr(model, "config", None))),
            f"| **test NLL** | **{self['nll_nats']:.2f} nats/sentence** ({how}); perplexity {self['ppl']:.1f} per token "
            f"({self['tokens']:,} tokens with one <eos> per sentence, {self['sentences']:,} sentences) |",
            f"| test -ELBO | {self['nelbo_nats']:.2f} nats/sentence (reconstruction {self['rec_nats']:.2f} + KL {self['kl_nats']:.2f}) |",
        ]
        if self["latent"]:
            rows.append(f"| active units | {self['active_units']} of {self['latent']} (Cov_x E_q[z_u] > 0.01) |")
        if self._reconstruction():
            rows.append(f"| test reconstruction | {self._reconstruction()} (greedy decoding of the posterior mean: lines "
                        f"decoded exactly; tokens decoded at their position, <eos> not counted) |")
        history = ("Per epoch, -ELBO in nats/sentence, train/val (the train values are means over the epoch's batches, their "
                   "reconstruction a sampled-softmax estimate when `sampled` > 0): "
                   + ", ".join(f"{r['epoch']}: {r['train_nelbo']:.1f}/{r['val_nelbo']:.1f}" for r in metrics["epochs"]))
        return f"vocabulary {model.num_tokens:,} {model.unit}s (with <pad> <unk> <bos> <eos>); ", rows, history


class Realness(Evaluation):
    """A GAN's realness: no likelihood, the squared Fréchet distance between its samples and the
    data in the judge's features (genkit.realness), and, where the judge is a classifier, the
    entropy of the samples' labels."""

    def line(self) -> str:
        labels = (f"label entropy {self['label_entropy']:.3f}/{self['max_entropy']:.3f} nats  "
                  if "label_entropy" in self else "")
        return (f"Fréchet distance {self['frechet']:.3f} (judge features, {self['samples']} samples vs {self['images']} images)  "
                f"{labels}{self['model']}  {self['data']}")

    def card_rows(self, metrics, model, measure):
        judge = str(self["judge"])
        features = (f"the penultimate-layer features of `{Path(judge).name}`" if judge.endswith(".keras")
                    else f"{judge}, a fixed untrained network (genkit.realness.RandomFeatures)")
        rows = [
            self._best(metrics, " (lowest val pixel Fréchet distance: val images vs the generator's images for fixed noise)"),
            f"| **test realness** | **squared Fréchet distance {self['frechet']:.3f}** between {self['samples']:,} samples "
            f"(seed {self['seed']}) and the {self['images']:,} test images, in {features} |",
        ]
        if "histogram" in self:
            hist = "/".join(str(v) for v in self["histogram"])
            rows.append(f"| samples' labels | entropy {self['label_entropy']:.3f} of at most {self['max_entropy']:.3f} nats; "
                        f"per class (judge's labels) {hist} |")
        history = "Per epoch, pixel Fréchet distance (train/val) and D's mean output on val real/fake: " + ", ".join(
            f"{r['epoch']}: {r['train_fd_px']:.2f}/{r['val_fd_px']:.2f} ({r['val_d_real']:.2f}/{r['val_d_fake']:.2f})"
            for r in metrics["epochs"])
        return "", rows, history


class Accuracy(Evaluation):
    """A classifier's accuracy and cross-entropy."""

    def line(self) -> str:
        return (f"accuracy {self['accuracy']:.4f}  cross-entropy {self['cross_entropy_nats']:.4f} nats/image  "
                f"{self['images']} images  {self['model']}  {self['data']}")

    def card_rows(self, metrics, model, measure):
        rows = [
            self._best(metrics, " (by validation cross-entropy)"),
            f"| **test accuracy** | **{100 * self['accuracy']:.2f}%** ({self['images']:,} images; cross-entropy {self['cross_entropy_nats']:.4f} nats/image) |",
        ]
        history = "Per epoch, accuracy (train/val): " + ", ".join(
            f"{r['epoch']}: {r['train_accuracy']:.4f}/{r['val_accuracy']:.4f}" for r in metrics["epochs"])
        return "", rows, history
