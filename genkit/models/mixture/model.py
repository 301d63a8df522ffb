"""A per-pixel mixture of trained pixel models: p(x_t | x_<t) = sum_m w_m p_m(x_t | x_<t).

Each member is an autoregressive pixel model of the same size and palette (a PixelCNN, a PixelRNN,
another seed of either); their conditionals are averaged pixel by pixel with weights w = softmax(a),
so the mixture is itself an autoregressive model: its product over pixels is a likelihood
(gk-eval), and it samples and completes one pixel at a time through the members' own caches
(genkit.models.base.PixelModel's raster loop). Averaging the predictions of models that erred
differently is the cheapest likelihood lever there is (bench/levers.py measured it first).

The members come from checkpoints (``--set members=A,B,...``) and stay frozen: training learns
only the M mixing logits a. The members were fitted on the "fit" split, where each looks better
than it is, so the weights are learned on the held-out **val** split (``fit_split``); with M
numbers to learn from tens of thousands of pixels, val still picks the epoch. The test split is
never seen. A saved mixture carries every member's config and weights: it loads from its one file.
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops

from ... import models
from ...errors import GenkitError
from .. import register
from ..base import PixelModel
from .config import MixtureConfig


@register("mixture")
class Mixture(PixelModel):
    config_class = MixtureConfig
    fit_split = "val"  # the members learned "fit"; the weights learn from data they did not see

    def __init__(self, height, width, palette, components=None, **settings):
        super().__init__(height, width, palette, **settings)
        if components is None:
            members = [self._member(spec) for spec in self.config.member_specs]
        else:  # from a checkpoint's config: the members' networks, their weights loaded after
            members = [models.get(c["family"]).from_config(c["config"]) for c in components]
        if len(members) < 2:
            raise GenkitError("a mixture needs two or more trained pixel models: --set members=A,B "
                              "(checkpoints, run folders or shipped names, comma-separated)")
        for m in members:
            m.trainable = False
        self.members = members
        self.parallel_sampling = any(m.parallel_sampling for m in members)
        self.mix_logits = self.add_weight(shape=(len(members),), initializer="zeros", name="mix_logits")

    def _member(self, spec: str) -> PixelModel:
        """A member from its checkpoint, checked: a pixel model of this size and palette."""
        model = models.load(spec)
        if not isinstance(model, PixelModel) or isinstance(model, Mixture):
            raise GenkitError(f"a mixture's members are pixel models (pixelcnn, pixelrnn), not {model.family}", source=spec)
        if (model.height, model.width) != (self.height, self.width):
            raise GenkitError(f"draws {model.width}x{model.height} images, the data is {self.width}x{self.height}", source=spec)
        if not (model.palette.shape == self.palette.shape and (model.palette == self.palette).all()):
            raise GenkitError(f"speaks another palette ({len(model.palette)} colours) than the data's ({len(self.palette)})",
                              source=spec)
        return model

    def get_config(self) -> dict:
        return {**super().get_config(),
                "components": [{"family": m.family, "config": m.get_config()} for m in self.members]}

    def build_layers(self) -> None:
        for m in self.members:
            if not m.built:
                m.build()

    def card_notes(self, metrics: dict) -> tuple[str, list[str]]:
        """The card says which split taught what and lists the members with their weights."""
        members = "; ".join(f"{c} ({m.family}, {m.count_params():,} parameters): weight {w:.3f}"
                            for c, m, w in zip(self.config.member_specs, self.members, self.weights_of_members))
        return (f"; the members were trained on fit, the mixing weights on val ({metrics['val_images']})",
                [f"| members | {members} |"])

    @property
    def weights_of_members(self):
        """The mixing weights w (M,), a numpy array."""
        return ops.convert_to_numpy(ops.softmax(self.mix_logits))

    # -- the whole image at once: log of the weighted average of the members' probabilities ----
    def call(self, indices, training=False):
        logp = ops.stack([ops.log_softmax(m(indices, training=False), axis=-1) for m in self.members])
        log_w = ops.reshape(ops.log_softmax(self.mix_logits), (-1, 1, 1, 1, 1))
        return ops.logsumexp(logp + log_w, axis=0)  # log-probabilities: valid logits

    # -- one pixel at a time: every member's own caches, side by side in one flat state --------------
    def sample_state(self, batch) -> tuple:
        states = [tuple(m.sample_state(batch)) for m in self.members]
        self._state_sizes = [len(s) for s in states]
        return tuple(x for s in states for x in s)

    def _parts(self, state) -> list[tuple]:
        out, at = [], 0
        for size in self._state_sizes:
            out.append(tuple(state[at : at + size]))
            at += size
        return out

    def sample_row(self, r, canvas, state):
        return tuple(x for m, s in zip(self.members, self._parts(state)) for x in m.sample_row(r, canvas, s))

    def row_state(self, state):
        return tuple(x for m, s in zip(self.members, self._parts(state)) for x in m.row_state(s))

    def sample_logits(self, t, canvas, state):
        logps, new = [], []
        for m, s in zip(self.members, self._parts(state)):
            logits, s = m.sample_logits(t, canvas, s)
            logps.append(tf.nn.log_softmax(logits, axis=-1))
            new.extend(s)
        log_w = tf.nn.log_softmax(tf.convert_to_tensor(self.mix_logits))[:, None, None]
        return tf.reduce_logsumexp(tf.stack(logps) + log_w, axis=0), tuple(new)
