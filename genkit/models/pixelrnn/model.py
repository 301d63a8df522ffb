"""PixelRNN: embedding -> stacked LSTM -> softmax over the palette, one pixel per time step.

The input at step t (predicting pixel t) is the embedding of pixel t-1 (a start token at t=0),
plus, by default, the embedding of the pixel above pixel t (already drawn, W steps back) and of
the position t. With ``above=False, position=False`` it is the course's 1-D LSTM.
Sampling carries the LSTM states from pixel to pixel (:meth:`PixelRNN.sample_logits`).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from .. import register
from ..base import PixelModel
from .config import PixelRNNConfig


@register("pixelrnn")
class PixelRNN(PixelModel):
    config_class = PixelRNNConfig
    # two programs side by side, each on half the batch: 1.4x the images a second of one program
    # on the whole batch (bench/sampling.py, the shipped model at batch 64 on 2 cores)
    parallel_sampling = True

    def __init__(self, height, width, palette, **settings):
        super().__init__(height, width, palette, **settings)
        k, c = self.num_colors, self.config
        self.start_token = k
        self.embed_prev = keras.layers.Embedding(k + 1, c.embed, name="embed_prev")
        self.embed_above = keras.layers.Embedding(k + 1, c.embed, name="embed_above") if c.above else None
        self.embed_pos = keras.layers.Embedding(self.height * self.width, c.embed, name="embed_pos") if c.position else None
        if self.embed_pos is not None:
            self.embed_pos.build()  # its table is read directly (see _embed)
        self.rnns = [keras.layers.LSTM(c.hidden, return_sequences=True, name=f"lstm_{i}") for i in range(c.layers)]
        self.drop = keras.layers.Dropout(c.dropout)
        self.head = keras.layers.Dense(k, name="logits")

    def build_layers(self):
        c = self.config
        for table in (self.embed_prev, self.embed_above):
            if table is not None:
                table.build()
        for i, rnn in enumerate(self.rnns):
            rnn.build((None, None, c.embed if i == 0 else c.hidden))
        self.head.build((None, c.hidden))

    def _embed(self, prev, above, pos):
        x = self.embed_prev(prev)
        if self.embed_above is not None:
            x = x + self.embed_above(above)
        if self.embed_pos is not None:
            # Index the table directly rather than through the layer: every row is used in
            # every batch, and a dense gradient is aggregated across replicas exactly like
            # the other weights (a sparse one is not, under MirroredStrategy with Adam).
            table = ops.convert_to_tensor(self.embed_pos.embeddings)
            x = x + (table if pos is None else ops.take(table, pos, axis=0))
        return x

    def call(self, indices, training=False):
        hw, w = self.height * self.width, self.width
        x = ops.reshape(ops.cast(indices, "int32"), (-1, hw))
        start = ops.full_like(x[:, :1], self.start_token)
        prev = ops.concatenate([start, x[:, :-1]], axis=1)
        above = ops.concatenate([ops.repeat(start, w, axis=1), x[:, :-w]], axis=1)
        h = self._embed(prev, above, None)  # None: every position, in order
        for rnn in self.rnns:
            h = self.drop(rnn(h, training=training), training=training)
        return ops.reshape(self.head(h), (-1, self.height, self.width, self.num_colors))

    # -- sampling: the LSTM states carried pixel to pixel, O(1) work per pixel ---------------
    def sample_state(self, batch) -> tuple:
        zeros = tf.zeros(tf.stack([batch, self.config.hidden]))
        return tuple(zeros for _ in self.rnns for _ in range(2))  # (h, c) of each layer

    def sample_logits(self, t, canvas, state):
        start = tf.fill(tf.shape(canvas)[1:], self.start_token)
        prev = tf.where(t > 0, tf.gather(canvas, tf.maximum(t - 1, 0)), start)
        above = tf.where(t >= self.width, tf.gather(canvas, tf.maximum(t - self.width, 0)), start)
        h = self._embed(prev, above, t)
        new_state = []
        for i, rnn in enumerate(self.rnns):
            h, c = lstm_step(rnn.cell, h, state[2 * i], state[2 * i + 1])
            new_state += [h, c]
        return self.output_layer(h, self.head), tuple(new_state)


def lstm_step(cell, x, h, c):
    """One step of a Keras LSTMCell (tanh, sigmoid gates i, f, c, o) in TensorFlow ops. (The two
    products stay two: one product of [x, h] with the kernels side by side sampled a fifth
    slower in the compiled loop, two of them side by side.)"""
    z = tf.matmul(x, cell.kernel) + tf.matmul(h, cell.recurrent_kernel) + cell.bias
    i, f, g, o = tf.split(z, 4, axis=1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(c), c
