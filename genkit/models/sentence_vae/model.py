"""The sentence VAE (Bowman et al. 2016, "Generating Sentences from a Continuous Space").

An LSTM encoder reads the sentence; its last output gives m and σ (the **log-variance**, as in
the image VAE); the code is z = m + exp(σ/2)·e with e ~ N(0, I); an LSTM decoder, whose initial
state is a function of z and which also sees z at every step (``z_input``), predicts the
sentence word by word after a start token. The loss per sentence, in nats, is

    −log p(sentence | z)  +  w(step) · ½ Σ_i (exp(σ_i) − (1 + σ_i) + m_i²)

where w(step) is the KL annealing weight (``kl_anneal``: logistic, linear or none); with
``kl_floor`` > 0 the KL term of each sentence counts as at least that many nats in the training
loss ("free bits", Kingma et al. 2016), so that the code carries information rather than
collapsing onto the prior (the reported KL, and every evaluation, is the true one);
``kl_floor_token`` > 0 raises that floor to as many nats a token (with <eos>) for longer
sentences, so that a 7-character line gets a larger budget than a 5-character one. The floors,
the annealing, the dropouts, ``sampled`` (the softmax's estimate) and ``clipnorm`` (Adam's
global gradient-norm clip) are ``TRAINING_ONLY``: a
resumed run, or one started with ``--init``, may change them. With
``bow`` > 0 the training loss also has ``bow`` times a bag-of-words term (Zhao et al. 2017): a
layer from z alone scores each word of the sentence (order ignored, <eos> not counted) under one
softmax, ``bow_nll`` nats a sentence, so that z must hold the sentence's words; it is not part
of the ELBO (nor of any score). The KL weight is read
from the optimizer's iteration counter inside the model's own forward pass, so it is a
function of the global training step alone: it survives ``--resume`` (the counter is saved in
last.keras) and is the same under any tf.distribute strategy (the counter is one mirrored
variable). Validation and every evaluation use w = 1, the true negative ELBO.

**Word dropout** (the paper's): during training only, each decoder input word (never the start
token) is replaced by ``<unk>`` with probability ``word_dropout``: a whole token, not parts of
its embedding. It is drawn in ``make_example`` from the stateless seed of (run seed, epoch,
sentence), like the code's noise e, and never at validation, evaluation or decoding.

``latent=0`` is the plain LSTM language model: the decoder alone, with a zero initial state.

The vocabulary (the fit split's most frequent tokens after ``<pad> <unk> <bos> <eos>``) is part
of the model's config, so one .keras file holds everything. Tokens are words (genkit.text's
tokeniser) or characters (Chinese poem lines). Unknown tokens are looked up as written, then
lower-cased, then (digits) as PTB's ``N``, and are otherwise ``<unk>``. Output is written as
ordinary text (genkit.text.detokenize): with capitals when the vocabulary is lower-cased.

Chinese (genkit.chinese): a line typed in the other script than the vocabulary's is converted
before encoding, an unknown character is looked up in the other script, and gk-interp writes in
simplified script when its first line (or else its second) is simplified.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import asdict

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from ... import chinese
from ...errors import GenkitError
from ...text import SPECIALS, UNITS, ScoredSentences, Sentences, detokenize, guess_unit, tokenize, tokens_of
from .. import iwae, register
from ..base import InterpolatesSentences, SamplesSentences, Trainable, draw
from ..capabilities import Evaluates, SentenceNLL
from .config import SentenceVAEConfig

PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)
DECODES = ("greedy", "sample", "beam")
BEAM = 5  # beam width of --decode beam
NEG = -1e9


def kl_weight(step, anneal: str, k: float, x0: float, steps: float):
    """The KL weight at training step ``step`` (a number, numpy array or tensor)."""
    if anneal == "none":
        return ops.ones_like(step) if not isinstance(step, (int, float)) else 1.0
    if anneal == "logistic":
        return 1.0 / (1.0 + ops.exp(-k * (step - x0))) if not isinstance(step, (int, float)) else \
            1.0 / (1.0 + math.exp(-k * (step - x0)))
    if isinstance(step, (int, float)):
        return min(1.0, step / steps)
    return ops.minimum(1.0, step / steps)


def build_vocabulary(texts, unit: str, size: int, min_count: int, pretokenized: bool = False) -> list[str]:
    """The specials, then the tokens of ``texts`` seen at least ``min_count`` times, most
    frequent first (ties by the token), ``size`` in all at most."""
    counts = Counter(tok for text in texts for tok in tokens_of(text, unit, pretokenized))
    for special in SPECIALS:
        counts.pop(special, None)
    kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return list(SPECIALS) + kept[: max(0, size - len(SPECIALS))]


class SentenceLoss(keras.losses.Loss):
    """Per sentence: reconstruction + w · max(KL, kl_floor, kl_floor_token · tokens) (+ bow · the
    bag-of-words NLL, the 5th column), from the model's (B, 4) output ((B, 5) with ``bow``)."""

    def __init__(self, kl_floor: float = 0.0, bow: float = 0.0, kl_floor_token: float = 0.0, **kwargs):
        super().__init__(name="sentence_elbo", **kwargs)
        self.kl_floor, self.bow, self.kl_floor_token = float(kl_floor), float(bow), float(kl_floor_token)

    def call(self, y_true, y_pred):
        floor = ops.maximum(self.kl_floor, self.kl_floor_token * y_pred[:, 3]) if self.kl_floor_token else self.kl_floor
        loss = y_pred[:, 0] + y_pred[:, 2] * ops.maximum(y_pred[:, 1], floor)
        return loss + self.bow * y_pred[:, 4] if self.bow else loss


def _column(i, name):
    def fn(y_true, y_pred):
        return y_pred[:, i]

    fn.__name__ = name
    return fn


class OutputBias(layers.Layer):
    """The output layer's bias, for a tied output matrix (the embedding's)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape=None):
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x):
        return x + self.bias


@register("sentence-vae")
class SentenceVAE(Trainable, SamplesSentences, InterpolatesSentences, Evaluates, keras.Model):
    """LSTM encoder -> (m, σ) -> z -> LSTM decoder over a vocabulary; ``latent=0``: an LSTM LM."""

    config_class = SentenceVAEConfig  # the settings, their defaults and bounds
    headline = "nelbo"
    headline_unit = "nats/sentence"
    default_k = 10  # importance samples per sentence for gk-eval's IWAE bound (a decoder pass each: k=10 scores PTB's test set in about 2 min here)

    def __init__(self, vocabulary, **settings):
        config, rest = self.config_class.split(settings)
        super().__init__(**rest)
        vocabulary = [str(t) for t in vocabulary]
        if tuple(vocabulary[: len(SPECIALS)]) != SPECIALS or len(vocabulary) <= len(SPECIALS):
            raise GenkitError("the vocabulary must start with " + " ".join(SPECIALS) + " and hold some tokens")
        if config.unit not in UNITS:  # "auto" is decided from the data, by for_stream
            raise GenkitError(f"unit must be {' or '.join(UNITS)}, got {config.unit!r}")
        self.vocabulary = vocabulary
        self.index = {tok: i for i, tok in enumerate(vocabulary)}
        self.config = config
        c = self.config
        v = len(vocabulary)
        self.latent, self.unit, self.max_length = c.latent, c.unit, c.max_length
        # text stored lower-cased (PTB, the sonnets: at most 1% of the words hold a capital) is
        # written with capitals (genkit.text.detokenize)
        self.capitals = c.unit == "word" and sum(t != t.lower() for t in vocabulary[len(SPECIALS):]) <= 0.01 * v
        self.num_tokens = v
        self.embed = layers.Embedding(v, c.embed, name="embed")
        self.drop = layers.Dropout(c.dropout, name="dropout")
        if c.latent:
            self.enc_rnn = layers.LSTM(c.hidden, return_sequences=True, name="enc_lstm")
            self.enc_back = layers.LSTM(c.hidden, return_sequences=True, name="enc_lstm_back") if c.bidirectional else None
            self.to_stats = layers.Dense(2 * c.latent, name="stats")
            self.to_state = layers.Dense(2 * c.hidden, name="z_to_state")
        self.bow_out = layers.Dense(v, name="bow") if c.latent and c.bow > 0 else None
        self.dec_rnn = layers.LSTM(c.hidden, return_sequences=True, name="dec_lstm")
        if c.tie:
            self.proj = layers.Dense(c.embed, name="out_proj") if c.hidden != c.embed else None
            self.out_bias = OutputBias(v, name="out_bias")
        else:
            self.out = layers.Dense(v, name="out")
        never = np.zeros(v, np.float32)
        never[[PAD_ID, BOS_ID]] = NEG  # never a target: no probability mass for them
        self.never = never

    # -- config ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "vocabulary": self.vocabulary, **asdict(self.config)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def build_from_config(self, config):
        self.build_for_data()

    def build_for_data(self) -> None:
        y = np.array([[4 % self.num_tokens, EOS_ID]], np.int32)
        dec = np.array([[BOS_ID, y[0, 0]]], np.int32)
        self((y, dec, np.zeros((1, max(1, self.latent)), np.float32)))

    # -- tokens <-> ids -------------------------------------------------------------------
    def token_id(self, tok: str) -> int:
        i = self.index.get(tok)
        if i is None:
            i = self.index.get(tok.lower())
        if i is None and any(ch.isdigit() for ch in tok) and "N" in self.index:
            stripped = tok.replace(",", "").replace(".", "").replace("-", "").replace("/", "")
            if stripped.isdigit():
                i = self.index["N"]  # PTB writes every number as N
        return UNK_ID if i is None or i in (PAD_ID, BOS_ID, EOS_ID) else i

    def ids_of(self, text: str, *, convert: bool = True) -> tuple[list[int], list[str]]:
        """A sentence's token ids (without <eos>) and the tokens that became <unk>. ``convert``
        (characters): a line in the other Chinese script than the vocabulary's is converted
        first, and an unknown character is looked up in its other script (genkit.chinese)."""
        if convert and self.unit == "char":
            text = chinese.to_traditional(text, self.index)
        tokens = tokenize(text, self.unit, keep=self.index)
        ids = [self.token_id(t) for t in tokens]
        if convert and self.unit == "char":
            ids = [next((self.index[v] for v in chinese.variants(t) if v in self.index), i) if i == UNK_ID else i
                   for t, i in zip(tokens, ids)]
        unknown = [t for t, i in zip(tokens, ids) if i == UNK_ID and t != "<unk>"]
        return ids, unknown

    def text_of(self, ids) -> str:
        out = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                out.append(self.vocabulary[i])
        return detokenize(out, self.unit, capitals=self.capitals)

    def _matrix(self, id_lists, length: int | None = None) -> np.ndarray:
        """Rows of ids + <eos>, padded with 0 (cut to ``length`` tokens with the <eos>)."""
        length = length or (max(len(i) for i in id_lists) + 1)
        out = np.zeros((len(id_lists), length), np.int32)
        for r, ids in enumerate(id_lists):
            row = list(ids[: length - 1]) + [EOS_ID]
            out[r, : len(row)] = row
        return out

    def sentences_ids(self, texts, *, allow_empty: bool = False, warn=None, convert: bool = True) -> np.ndarray:
        """(N, L) ids + <eos> of user sentences; unknown words become <unk> (one warning).
        ``convert``: see :meth:`ids_of` (False: characters as stored, as training reads them)."""
        id_lists, unknown = [], []
        for text in texts:
            ids, unk = self.ids_of(text, convert=convert)
            if not ids and not allow_empty:
                raise GenkitError("an empty sentence: give some words" if self.unit == "word" else
                                  "an empty sentence: give some characters")
            id_lists.append(ids)
            unknown += unk
        if unknown and warn is not None:
            distinct = list(dict.fromkeys(unknown))
            shown, more = ", ".join(distinct[:8]), len(distinct) - 8
            warn(f"warning: {len(unknown)} {'token' if len(unknown) == 1 else 'tokens'} not in the model's "
                 f"vocabulary, read as <unk>: {shown}{f' and {more} more' if more > 0 else ''}")
        return self._matrix(id_lists)

    # -- the networks -----------------------------------------------------------------------
    def encode(self, y, training=False):
        """(m, σ) of id rows y (B, T): tokens + <eos>, 0-padded."""
        lengths = ops.sum(ops.cast(ops.not_equal(y, PAD_ID), "int32"), axis=1)
        h = self.drop(self.embed(y), training=training)
        hs = self.enc_rnn(h, training=training)
        at = ops.maximum(lengths - 1, 0)
        last = tf.gather(hs, at, batch_dims=1)
        if self.enc_back is not None:  # each row's tokens reversed (padding stays at the end)
            back = self.enc_back(tf.reverse_sequence(h, lengths, seq_axis=1, batch_axis=0), training=training)
            last = ops.concatenate([last, tf.gather(back, at, batch_dims=1)], axis=-1)
        stats = self.to_stats(last)
        return stats[:, : self.latent], stats[:, self.latent :]

    def initial_state(self, z, batch):
        if not self.latent:
            zeros = tf.zeros((batch, self.config.hidden))
            return zeros, zeros
        s = self.to_state(z)
        return ops.tanh(s[:, : self.config.hidden]), s[:, self.config.hidden :]

    def decoder_outputs(self, dec_in, z, training=False):
        """LSTM outputs (B, T, H) for decoder inputs (B, T) given codes z (B, latent)."""
        x = self.drop(self.embed(dec_in), training=training)
        batch = tf.shape(dec_in)[0]
        if self.latent and self.config.z_input:
            zs = tf.repeat(z[:, None, :], tf.shape(dec_in)[1], axis=1)
            x = ops.concatenate([x, zs], axis=-1)
        h0, c0 = self.initial_state(z, batch)
        hs = self.dec_rnn(x, initial_state=[h0, c0], training=training)
        return self.drop(hs, training=training)

    def logits(self, h):
        if self.config.tie:
            if self.proj is not None:
                h = self.proj(h)
            out = self.out_bias(ops.matmul(h, ops.transpose(self.embed.embeddings)))
        else:
            out = self.out(h)
        return out + self.never

    def log_px(self, hs, y, step=None):
        """log p(y | ·) per row (B,): the decoder outputs scored at y's non-pad positions only.
        With ``step`` (training, ``sampled`` > 0) a sampled-softmax estimate instead."""
        mask = ops.not_equal(y, PAD_ID)
        rows = tf.boolean_mask(tf.broadcast_to(tf.range(tf.shape(y)[0])[:, None], tf.shape(y)), mask)
        h, labels = tf.boolean_mask(hs, mask), tf.boolean_mask(y, mask)
        if step is not None and 0 < self.config.sampled < self.num_tokens:
            ll = -self._sampled_nll(h, labels, step)
        else:
            ll = -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=self.logits(h))
        return tf.math.unsorted_segment_sum(ll, rows, tf.shape(y)[0])

    def _sampled_nll(self, h, labels, step):
        """Sampled softmax (Jean et al. 2015) over ``sampled`` words drawn log-uniformly (the
        vocabulary is sorted by frequency) with a stateless seed from the global step: the same
        words on every replica, and again after a resume."""
        s, v = self.config.sampled, self.num_tokens
        if self.config.tie:
            inputs = self.proj(h) if self.proj is not None else h
            weights, bias = ops.convert_to_tensor(self.embed.embeddings), ops.convert_to_tensor(self.out_bias.bias)
        else:
            inputs = h
            weights, bias = ops.transpose(ops.convert_to_tensor(self.out.kernel)), ops.convert_to_tensor(self.out.bias)
        log_range = math.log(v + 1.0)
        u = tf.random.stateless_uniform([s], seed=tf.stack([tf.constant(0x5E17, tf.int64), tf.cast(step, tf.int64)]),
                                        dtype=tf.float64)
        cand = tf.clip_by_value(tf.cast(tf.floor(tf.exp(u * log_range)), tf.int64) - 1, 0, v - 1)

        def expected(ids):
            ids = tf.cast(ids, tf.float64)
            return tf.cast(s * tf.math.log((ids + 2.0) / (ids + 1.0)) / log_range, tf.float32)

        labels = tf.cast(labels, tf.int64)[:, None]
        return tf.nn.sampled_softmax_loss(weights, bias + self.never, labels, inputs, s, v, num_true=1,
                                          sampled_values=(cand, expected(labels), expected(cand)),
                                          remove_accidental_hits=True)

    @staticmethod
    def kl_terms(m, logvar):
        """KL(N(m, exp σ) ‖ N(0, 1)) per dimension: ½(exp σ − (1 + σ) + m²)."""
        return 0.5 * (ops.exp(logvar) - (1.0 + logvar) + ops.square(m))

    def kl_weight_at(self, step):
        c = self.config
        return kl_weight(step, c.kl_anneal, c.kl_k, c.kl_x0, c.kl_steps)

    def call(self, inputs, training=False):
        y, dec_in, eps = inputs
        y, dec_in = ops.cast(y, "int32"), ops.cast(dec_in, "int32")
        lengths = ops.sum(ops.cast(ops.not_equal(y, PAD_ID), "int32"), axis=1)
        t = ops.max(lengths)  # the batch's longest sentence: no LSTM steps over padding only
        y, dec_in = y[:, :t], dec_in[:, :t]
        if self.latent:
            m, logvar = self.encode(y, training=training)
            z = m + ops.exp(0.5 * logvar) * ops.cast(eps, "float32")[:, : self.latent]
            kl = ops.sum(self.kl_terms(m, logvar), axis=-1)
        else:
            z, kl = None, ops.zeros(ops.shape(y)[:1])
        optimizer = getattr(self, "optimizer", None)
        step = optimizer.iterations if training and optimizer is not None else None
        rec = -self.log_px(self.decoder_outputs(dec_in, z, training=training), y, step)
        weight = ops.ones_like(rec)
        if step is not None:  # the global step: same on every replica, saved with the run
            weight = weight * ops.cast(self.kl_weight_at(ops.cast(step, "float32")), "float32")
        columns = [rec, kl, weight, ops.cast(lengths, "float32")]
        if self.bow_out is not None:
            columns.append(self.bow_nll(z, y))
        return ops.stack(columns, axis=-1)

    def bow_nll(self, z, y):
        """The bag-of-words NLL per row (B,): −Σ log softmax(bow(z))[word] over y's words (no
        <eos>, no padding), one softmax over the vocabulary for the whole sentence."""
        logp = tf.nn.log_softmax(self.bow_out(z) + self.never)
        words = ops.cast(ops.not_equal(y, PAD_ID) & ops.not_equal(y, EOS_ID), "float32")
        return -ops.sum(tf.gather(logp, y, batch_dims=1) * words, axis=1)

    # -- training (genkit.train) --------------------------------------------------------------
    @classmethod
    def check_training_data(cls, data) -> None:
        if not isinstance(data, Sentences):
            raise GenkitError(f"{cls.family} learns from text, one sentence a line (--data FILE, stdin, or "
                              "--dataset ptb|sonnets|tang)")

    @classmethod
    def for_stream(cls, data: Sentences, **config):
        """A fresh model whose vocabulary is the fit split's most frequent tokens."""
        from ...splits import split_stream

        settings, _ = cls.config_class.split(config)
        fit = split_stream(data, "fit")
        unit = settings.unit
        if unit == "auto":
            unit = data.meta.get("unit") or guess_unit(fit.texts)
        pre = bool(data.meta.get("pretokenized"))
        vocabulary = build_vocabulary(fit.texts, unit, settings.vocab, settings.min_count, pre)
        longest = max((len(tokens_of(t, unit, pre)) for t in fit.texts), default=0) + 1  # with <eos>
        max_length = max(2, min(settings.max_length, longest))  # decoding stops there too
        return cls(vocabulary, **{**config, "unit": unit, "max_length": max_length})

    def train_arrays(self, data: Sentences) -> tuple:
        """(N, L) ids + <eos>, 0-padded; sentences longer than max_length tokens are cut."""
        pre = bool(data.meta.get("pretokenized"))
        id_lists = [[self.token_id(t) for t in tokens_of(text, self.unit, pre)] for text in data.texts]
        longest = max((len(i) for i in id_lists), default=0) + 1
        return (self._matrix(id_lists, min(longest, self.max_length)),)

    def example_sizes(self, arrays) -> np.ndarray:
        """Tokens per sentence (with <eos>): a batch costs LSTM steps up to its longest."""
        return (arrays[0] != PAD_ID).sum(axis=1)

    def make_example(self, rows, seed, *, training, flip):
        y = tf.cast(rows[0], tf.int32)
        length = tf.shape(y)[0]
        n = tf.reduce_sum(tf.cast(tf.not_equal(y, PAD_ID), tf.int32))
        pos = tf.range(length)
        dec_in = tf.concat([[BOS_ID], y[:-1]], axis=0)
        dec_in = tf.where(pos < n, dec_in, PAD_ID)
        if training and self.config.word_dropout > 0:
            u = tf.random.stateless_uniform([length], seed=tf.random.experimental.stateless_fold_in(seed, 1))
            dropped = (u < self.config.word_dropout) & (pos >= 1) & (pos < n)  # words only, never <bos>
            dec_in = tf.where(dropped, UNK_ID, dec_in)
        eps = tf.random.stateless_normal([max(1, self.latent)], seed=tf.random.experimental.stateless_fold_in(seed, 2))
        return (y, dec_in, eps), tf.zeros([], tf.float32)

    def loss_fn(self):
        return SentenceLoss(self.config.kl_floor, self.config.bow if self.bow_out is not None else 0.0,
                            self.config.kl_floor_token)

    def compile_for_training(self, lr: float) -> None:
        columns = ((0, "rec"), (1, "kl"), (2, "kl_weight"), (3, "tokens")) + (((4, "bow_nll"),) if self.bow_out is not None else ())
        clip = self.config.clipnorm or None  # Adam's global_clipnorm: one norm over every gradient
        self.compile(optimizer=keras.optimizers.Adam(lr, global_clipnorm=clip), loss=self.loss_fn(),
                     metrics=[keras.metrics.MeanMetricWrapper(_column(i, name), name=name) for i, name in columns])

    def report(self, logs: dict) -> dict:
        rec, kl, tokens = float(logs["rec"]), float(logs["kl"]), float(logs["tokens"])
        out = {"nelbo": rec + kl, "rec": rec}
        if self.latent:
            out.update(kl=kl, kl_weight=float(logs["kl_weight"]))
        if "bow_nll" in logs:
            out["bow_nll"] = float(logs["bow_nll"])
        out["ppl"] = math.exp(min(50.0, (rec + kl) / max(tokens, 1e-9)))
        return out

    # -- decoding -----------------------------------------------------------------------------
    @tf.function(reduce_retracing=True)
    def _encode_fn(self, y):
        return self.encode(y)

    @tf.function(reduce_retracing=True)
    def _start_fn(self, z):
        return self.initial_state(z, tf.shape(z)[0])

    @tf.function(reduce_retracing=True)
    def _step_fn(self, tokens, z, h, c):
        x = self.embed(tokens)
        if self.latent and self.config.z_input:
            x = ops.concatenate([x, z], axis=-1)
        out, (h, c) = self.dec_rnn.cell(x, [h, c], training=False)
        return tf.nn.log_softmax(self.logits(out)), h, c

    def encode_texts(self, texts, warn=None) -> tuple[np.ndarray, np.ndarray]:
        """(m, σ) of sentences, numpy (N, latent) each."""
        if not self.latent:
            raise GenkitError("a language model (latent=0) has no code")
        y = self.sentences_ids(texts, warn=warn)
        m, lv = self._encode_fn(tf.constant(y))
        return ops.convert_to_numpy(m), ops.convert_to_numpy(lv)

    def decode_codes(self, z, *, decode: str = "greedy", temperature: float = 1.0, seed: int = 0) -> list[str]:
        """One sentence per code z (N, latent), decoded by :meth:`decode_ids`."""
        return [self.text_of(row) for row in self.decode_ids(z, decode=decode, temperature=temperature, seed=seed)]

    def decode_ids(self, z, *, decode: str = "greedy", temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """Token ids (N, T) decoded from codes z (N, latent), each row ending at its <eos> and
        0-padded (a row cut at max_length has no <eos>): greedy (argmax each step), sample (each
        word drawn at ``temperature``; 0 is greedy) or beam (width 5, best by mean log-probability
        per token). ``<unk>`` is never written, but the decoder may choose it, as it was trained to (the
        data's unknown words, word dropout). Where it does, the line gets the decoder's best word
        at that step other than ``<unk>`` and ``<eos>`` (drawn among them, for sample), and the
        decoder goes on from ``<unk>``, its own choice: fed the written word instead, it goes on
        from a word it did not choose, and the rest of the line drifts."""
        if decode not in DECODES:
            raise GenkitError(f"--decode must be {', '.join(DECODES)}, got {decode!r}")
        if temperature < 0:
            raise GenkitError("--temperature must be >= 0")
        z = np.asarray(z, np.float32).reshape(len(z), max(1, self.latent))
        if decode == "beam":
            return np.asarray(self._beam(z), np.int32).reshape(len(z), -1)
        rng = np.random.default_rng(seed)
        t = temperature if decode == "sample" else 0.0
        zt = tf.constant(z)
        h, c = self._start_fn(zt)
        tokens = np.full(len(z), BOS_ID, np.int32)
        out = np.zeros((len(z), self.max_length), np.int32)
        done = np.zeros(len(z), bool)
        for step in range(self.max_length):
            logp, h, c = self._step_fn(tf.constant(tokens), zt, h, c)
            logp = logp.numpy()
            tokens = draw(logp, t, rng).astype(np.int32)  # the decoder's choice: it goes on from it
            words = tokens.copy()
            chose_unk = tokens == UNK_ID
            if chose_unk.any():  # there a word is written: never <unk>, nor the line's end
                others = logp[chose_unk]
                others[:, [UNK_ID, EOS_ID]] = -np.inf
                words[chose_unk] = draw(others, t, rng)
            words[done] = PAD_ID
            out[:, step] = words
            done |= words == EOS_ID
            if done.all():
                return out[:, : step + 1]
        return out

    @tf.function(reduce_retracing=True)
    def _score_fn(self, y, z):
        dec_in = tf.concat([tf.fill([tf.shape(y)[0], 1], BOS_ID), y[:, :-1]], axis=1)
        dec_in = tf.where(tf.not_equal(y, PAD_ID), dec_in, PAD_ID)
        return self.log_px(self.decoder_outputs(dec_in, z if self.latent else None), y)

    def score_ids(self, ids, z) -> np.ndarray:
        """log p(ids | z) in nats per row (N,): the decoder's log-probability of each token of
        the row (ids (N, T) ending at <eos>, 0-padded, as :meth:`decode_ids` gives them) given
        its code z (N, latent; ignored by a language model), summed."""
        ids = np.asarray(ids, np.int32)
        if ids.ndim != 2 or len(ids) == 0:
            return np.zeros(len(ids))
        longest = max(1, int((ids != PAD_ID).sum(axis=1).max()))
        z = np.asarray(z, np.float32).reshape(len(ids), max(1, self.latent))
        return self._score_fn(tf.constant(ids[:, :longest]), tf.constant(z)).numpy().astype(np.float64)

    def line_logp(self, texts, z, warn=None) -> np.ndarray:
        """log p(text | z) in nats of each text (N,) given its code (z: N rows), summed over the
        text's tokens (as the encoder reads them; unknown ones as <unk>) and its <eos>."""
        return self.score_ids(self.sentences_ids(texts, allow_empty=True, warn=warn), z)

    def _beam(self, z: np.ndarray, width: int = BEAM) -> list[list[int]]:
        n, v = len(z), self.num_tokens
        zt = tf.constant(np.repeat(z, width, axis=0))
        h, c = self._start_fn(zt)
        scores = np.tile(np.r_[0.0, np.full(width - 1, -np.inf)], n)  # one live beam at first
        lengths = np.zeros(n * width)
        done = np.zeros(n * width, bool)
        tokens = np.full(n * width, BOS_ID, np.int32)
        written = np.zeros((n * width, 0), np.int32)
        for _ in range(self.max_length):
            logp, h, c = self._step_fn(tf.constant(tokens), zt, h, c)
            logp = logp.numpy().astype(np.float64)
            total = scores[:, None] + logp
            logp[:, [UNK_ID, EOS_ID]] = -np.inf
            other = logp.argmax(axis=1)  # each beam's best word (not <unk>, not <eos>): written for <unk>
            total[done] = -np.inf
            total[done, EOS_ID] = scores[done]  # a finished beam stays as it is
            flat = total.reshape(n, width * v)
            best = np.argsort(-flat, axis=1, kind="stable")[:, :width]
            parent = (best // v + np.arange(n)[:, None] * width).reshape(-1)
            tokens = (best % v).reshape(-1).astype(np.int32)
            scores = np.take_along_axis(flat, best, axis=1).reshape(-1)
            was_done = done[parent]
            lengths = lengths[parent] + ~was_done
            done = was_done | (tokens == EOS_ID)
            words = np.where(tokens == UNK_ID, other[parent], tokens)
            written = np.concatenate([written[parent], np.where(was_done, PAD_ID, words)[:, None]], axis=1)
            h, c = tf.gather(h, parent), tf.gather(c, parent)
            if done.all():
                break
        norm = (scores / np.maximum(lengths, 1)).reshape(n, width)
        norm[~np.isfinite(norm)] = -np.inf
        pick = norm.argmax(axis=1) + np.arange(n) * width
        return [list(written[i]) for i in pick]

    # -- what the commands call ----------------------------------------------------------------
    def _decoded(self, z, **decoding) -> ScoredSentences:
        """The sentences decoded from codes z, each with log p(sentence | its z) (score_ids)."""
        ids = self.decode_ids(z, **decoding)
        return ScoredSentences([self.text_of(row) for row in ids], logp=self.score_ids(ids, z))

    def interpolate(self, a: str, b: str, steps: int, *, decode: str = "greedy", temperature: float = 1.0,
                    seed: int = 0, warn=None, **options) -> ScoredSentences:
        """gk-interp: decode ``steps`` evenly spaced points on the line from the code of sentence a
        to that of b (encoder means); the first and last lines are the decodings of a and b. Each
        carries log p(sentence | z) of its point z. Chinese lines are written in simplified script
        when a (or else b) is (:meth:`script_for`), in the vocabulary's otherwise."""
        if steps < 2:
            raise GenkitError("--steps must be at least 2")
        if not self.latent:
            raise GenkitError("a language model (latent=0) has no code to interpolate; use a sentence VAE")
        for name, text in (("A", a), ("B", b)):
            if not self.ids_of(text)[0]:
                raise GenkitError(f"sentence {name} is empty: give some {'words' if self.unit == 'word' else 'characters'}")
        warn = warn if warn is not None else (lambda msg: print(msg, file=sys.stderr))
        m, _ = self.encode_texts([a, b], warn=warn)
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        out = self._decoded((1 - t) * m[0] + t * m[1], decode=decode, temperature=temperature, seed=seed)
        if self.script_for(a, b) == chinese.SIMPLIFIED:
            out.texts = [chinese.to_simplified(text) for text in out.texts]
        return out

    def script_for(self, *texts: str) -> str | None:
        """The Chinese script of the first of ``texts`` that has one (genkit.chinese.script_of,
        the vocabulary's characters counting as traditional); None for a word model."""
        if self.unit != "char":
            return None
        return next((s for s in (chinese.script_of(t, self.index) for t in texts) if s), None)

    def interpolate_text(self, a: str, b: str, steps: int, **options) -> list[str]:
        """The sentences of :meth:`interpolate`, as strings."""
        return self.interpolate(a, b, steps, **options).texts

    def sample_stream(self, n: int, *, temperature: float = 1.0, seed: int = 0, batch_size: int = 64,
                      decode: str = "sample", progress=None, **options) -> ScoredSentences:
        """gk-sample: ``n`` sentences, codes drawn from the prior N(0, I), each word drawn from the
        decoder at ``temperature`` (0: greedy), each with log p(sentence | z) of its code z. A
        language model (latent=0) just samples."""
        if n < 1:
            raise GenkitError("-n must be at least 1")
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, max(1, self.latent))).astype(np.float32)
        texts, logp = [], []
        for i in range(0, n, batch_size):
            part = self._decoded(z[i : i + batch_size], decode=decode, temperature=temperature, seed=seed + i)
            texts += part.texts
            logp.append(part.logp)
            if progress:
                progress(min(batch_size, n - i))
        return ScoredSentences(texts, logp=np.concatenate(logp))

    def sample_text(self, n: int, **options) -> list[str]:
        """The sentences of :meth:`sample_stream`, as strings."""
        return self.sample_stream(n, **options).texts

    # -- likelihood ---------------------------------------------------------------------------
    @tf.function(reduce_retracing=True)
    def _log_weights(self, y, eps):
        """log p(y, z_k) − log q(z_k | y) (B, k) for eps (B, k, L), and log p(y | z_k) (B, k)."""
        b, k = tf.shape(eps)[0], tf.shape(eps)[1]
        rep = tf.repeat(y, k, axis=0)
        dec_in = tf.concat([tf.fill([b * k, 1], BOS_ID), rep[:, :-1]], axis=1)
        dec_in = tf.where(tf.not_equal(rep, PAD_ID), dec_in, PAD_ID)
        if not self.latent:
            log_px = tf.reshape(self.log_px(self.decoder_outputs(dec_in, None), rep), [b, k])
            return log_px, log_px
        m, logvar = self.encode(y)
        z = iwae.codes(m, logvar, eps)
        flat = tf.reshape(z, [b * k, self.latent])
        log_px = tf.reshape(self.log_px(self.decoder_outputs(dec_in, flat), rep), [b, k])
        return iwae.log_weights(log_px, z, eps, logvar), log_px

    def evaluate_stream(self, data: Sentences, batch_size: int = 64, *, k: int | None = None, seed: int = 0,
                        progress=None) -> dict:
        """gk-eval: negative log-likelihood in nats per sentence (``nll_nats``: importance-sampled
        with k samples, the IWAE bound, for a VAE; exact for a language model), the negative ELBO
        (``nelbo_nats``), its KL term, perplexity per token (``<eos>`` counted, as is usual:
        exp(total NLL / total tokens)), and the active units (Cov E_q[z_u] > 0.01); for a VAE
        also the reconstruction by greedy decoding of the posterior mean (:meth:`reconstruction`).
        Sentences are scored whole (never cut), shortest first to keep padding small. A named
        data set's lines are read as stored, as training reads them; other text as typed
        (:meth:`ids_of`'s ``convert``)."""
        if not isinstance(data, Sentences):
            raise GenkitError(f"{self.family} scores text, one sentence a line")
        k = self.default_k if k is None else k
        if k < 1:
            raise GenkitError("-k must be at least 1")
        if len(data) == 0:
            raise GenkitError("no sentences to score")
        y_all = self.sentences_ids(data.texts, allow_empty=True, convert=not data.meta.get("dataset"))
        lengths = (y_all != PAD_ID).sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        k_eff = k if self.latent else 1
        chunk = max(1, min(k_eff, 256))  # samples per decoder call
        per_batch = max(1, min(batch_size, 256 // chunk))
        rng = np.random.default_rng([seed, 1])
        bound, rec, ms, lvs = np.zeros(len(data)), np.zeros(len(data)), [], []
        for i in range(0, len(order), per_batch):
            idx = order[i : i + per_batch]
            y = tf.constant(y_all[idx][:, : lengths[idx].max()])
            bound[idx], rec[idx] = iwae.estimate(lambda eps: self._log_weights(y, tf.constant(eps)), len(idx), k_eff,
                                                 max(1, self.latent), rng, chunk)
            if self.latent:
                m, lv = self._encode_fn(y)
                ms.append((idx, m.numpy()))
                lvs.append(lv.numpy())
            if progress:
                progress(len(idx))
        tokens = int(lengths.sum())
        nll = -bound
        out = {"model": self.family, "sentences": len(data), "tokens": tokens, "latent": self.latent,
               "nll_nats": float(nll.mean()), "ppl": float(math.exp(nll.sum() / tokens))}
        if not self.latent:
            out.update(nelbo_nats=out["nll_nats"], kl_nats=0.0, rec_nats=out["nll_nats"], ppl_elbo=out["ppl"], k=1)
            return SentenceNLL(out)
        m = np.zeros((len(data), self.latent))
        lv = np.zeros((len(data), self.latent))
        for (idx, mb), lvb in zip(ms, lvs):
            m[idx], lv[idx] = mb, lvb
        kl_each = (0.5 * (np.exp(lv) - 1.0 - lv + m**2)).sum(axis=1)
        nelbo = -rec + kl_each
        out.update(
            k=k,
            nelbo_nats=float(nelbo.mean()),
            kl_nats=float(kl_each.mean()),
            rec_nats=float(-rec.mean()),
            ppl_elbo=float(math.exp(nelbo.sum() / tokens)),
            active_units=int((m.var(axis=0) > 0.01).sum()),
            **self.reconstruction(y_all, m, order),
        )
        return SentenceNLL(out)

    def reconstruction(self, y, m, order=None, batch_size: int = 256) -> dict:
        """How well codes spell their sentences: each row of ids ``y`` (N, L: tokens + <eos>,
        0-padded) decoded greedily from its posterior mean ``m`` (N, latent), as gk-interp
        decodes its ends. ``exact_lines``: the fraction decoded exactly (a line holding <unk>
        never is: the decoder never writes it); ``token_accuracy``: the fraction of the lines'
        tokens (<eos> not counted) decoded at their position. A character model adds
        ``by_length``: both per line length (in characters) that holds at least 5% of the lines
        (Tang: 5 and 7). ``order``: the rows in the order to decode them (like lengths together)."""
        y = np.asarray(y, np.int32)
        order = np.arange(len(y)) if order is None else np.asarray(order)
        exact = np.zeros(len(y), bool)
        right = np.zeros(len(y), np.int64)
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            dec = self.decode_ids(m[idx])
            width = max(dec.shape[1], y.shape[1])
            dec = np.pad(dec, ((0, 0), (0, width - dec.shape[1])))
            want = np.pad(y[idx], ((0, 0), (0, width - y.shape[1])))
            exact[idx] = (dec == want).all(axis=1)
            words = (want != PAD_ID) & (want != EOS_ID)
            right[idx] = ((dec == want) & words).sum(axis=1)
        sizes = ((y != PAD_ID) & (y != EOS_ID)).sum(axis=1)

        def figures(rows) -> dict:
            return {"lines": int(rows.sum()), "exact_lines": float(exact[rows].mean()),
                    "token_accuracy": float(right[rows].sum() / max(1, sizes[rows].sum()))}

        out = figures(np.ones(len(y), bool))
        out = {"exact_lines": out["exact_lines"], "token_accuracy": out["token_accuracy"]}
        if self.unit == "char":
            out["by_length"] = {str(n): figures(sizes == n) for n in np.unique(sizes)
                                if (sizes == n).sum() >= 0.05 * len(y)}
        return out
