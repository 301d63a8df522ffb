"""Gated PixelCNN (van den Oord et al. 2016): embedding -> gated layers -> skip sum -> head.

Each gated layer has two stacks, so that the receptive field has no blind spot:

* the **vertical** stack sees a (kernel//2+1) x kernel window of the rows above *and the
  current row* (explicit zero padding on top and at the sides, then a valid convolution).
  Its features at row r therefore depend on rows <= r only;
* the **horizontal** stack sees a 1 x (kernel//2+1) window ending at the current column (mask
  "B"); in the first layer the window is shifted right by one so that it ends at the column
  before (mask "A": a pixel never sees itself). It gets the vertical stack through a 1x1
  convolution of the vertical pre-activations *shifted down one row*, so pixel (r, c) hears
  of rows < r only through it. From the second layer on it is residual.

Both stacks use the gate tanh(a) * sigmoid(b). Each layer's gated horizontal output feeds a
1x1 skip convolution; their sum goes through ReLU -> 1x1 -> ReLU -> 1x1 to K logits.
All convolutions are plain ``Conv2D(padding="valid")`` / ``Dense`` layers with the padding and
shifting done by ``ops.pad`` and slicing in :meth:`PixelCNN.call_embedded`, so the model
saves and loads as a .keras file in safe mode without custom layers.

Sampling (:meth:`PixelCNN.sample_row`, :meth:`PixelCNN.sample_logits`) caches, Fast-PixelCNN
style, what the earlier pixels left:

* at the start of each row r, the vertical stack advances by one row for every layer (each
  layer keeps the kernel//2 rows of input above), giving the vertical->horizontal link of row r;
* at each pixel, every layer computes only the current column of its horizontal stack from a
  buffer of the last kernel//2 columns of its input: O(layers) work per pixel.

Both run inside the compiled raster loop (PixelModel._sample_batch): one XLA program per batch,
not a Python call per pixel.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from .. import register
from ..base import PixelModel
from .config import PixelCNNConfig


def gate(x):
    """tanh(a) * sigmoid(b) over the two halves of the last axis (TensorFlow ops: sampling traces
    it once a layer, row and pixel, and Keras ops cost more Python to trace)."""
    a, b = tf.split(x, 2, axis=-1)
    return tf.tanh(a) * tf.sigmoid(b)


@register("pixelcnn")
class PixelCNN(PixelModel):
    config_class = PixelCNNConfig
    parallel_sampling = True  # ~20 small products a pixel: 2 threads sample 1.7x faster than 1 on 2 cores

    def __init__(self, height, width, palette, **settings):
        super().__init__(height, width, palette, **settings)
        c = self.config
        k, n = self.num_colors, c.layers
        self.pad = c.kernel // 2  # columns on each side of the vertical window
        self.kv = c.kernel // 2 + 1  # rows of the vertical window (the current one included)
        self.kh = c.kernel // 2 + 1  # columns of the horizontal window
        self.embedding = keras.layers.Embedding(k, c.embed, name="embed")
        self.v_convs = [keras.layers.Conv2D(2 * c.channels, (self.kv, c.kernel), name=f"v_conv_{i}") for i in range(n)]
        self.h_convs = [keras.layers.Conv2D(2 * c.channels, (1, self.kh), name=f"h_conv_{i}") for i in range(n)]
        self.v_to_h = [keras.layers.Dense(2 * c.channels, name=f"v_to_h_{i}") for i in range(n)]
        # The last layer's horizontal output feeds only its skip: it has no residual 1x1.
        self.h_res = [keras.layers.Dense(c.channels, name=f"h_res_{i}") for i in range(n - 1)]
        self.skips = [keras.layers.Dense(c.channels, name=f"skip_{i}") for i in range(n)]
        self.drop = keras.layers.Dropout(c.dropout)
        self.head_hidden = keras.layers.Dense(c.head, name="head_hidden")
        self.head_out = keras.layers.Dense(k, name="logits")

    def build_layers(self):
        c = self.config
        self.embedding.build()
        for i in range(c.layers):
            inputs = c.embed if i == 0 else c.channels
            self.v_convs[i].build((None, None, None, inputs))
            self.h_convs[i].build((None, None, None, inputs))
            self.v_to_h[i].build((None, 2 * c.channels))
            self.skips[i].build((None, c.channels))
            if i < c.layers - 1:
                self.h_res[i].build((None, c.channels))
        self.head_hidden.build((None, c.channels))
        self.head_out.build((None, c.head))

    # -- the whole image at once (training, likelihoods) -----------------------------------
    def call(self, indices, training=False):
        return self.call_embedded(self.embedding(ops.cast(indices, "int32")), training=training)

    def call_embedded(self, e, training=False):
        """Logits (B, H, W, K) from embedded pixels (B, H, W, embed); also used by the tests."""
        h_img, w_img, kv, kh, p = self.height, self.width, self.kv, self.kh, self.pad
        v, h, skip = e, e, None
        for i in range(self.config.layers):
            # Vertical: rows r-kv+1..r, columns c-p..c+p.
            v_pre = self.v_convs[i](ops.pad(v, [[0, 0], [kv - 1, 0], [p, p], [0, 0]]))
            # Horizontal: columns c-kh+1..c (mask B) or c-kh..c-1 (mask A: shifted right by one).
            if i == 0:
                h_in = ops.pad(h[:, :, : w_img - 1], [[0, 0], [0, 0], [kh, 0], [0, 0]])
            else:
                h_in = ops.pad(h, [[0, 0], [0, 0], [kh - 1, 0], [0, 0]])
            # Vertical -> horizontal: a 1x1 of the vertical pre-activations, shifted down one row.
            link = ops.pad(self.v_to_h[i](v_pre), [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :h_img]
            out = self.drop(gate(self.h_convs[i](h_in) + link), training=training)
            s = self.skips[i](out)
            skip = s if skip is None else skip + s
            if i < self.config.layers - 1:
                r = self.h_res[i](out)
                h = r if i == 0 else h + r
                v = gate(v_pre)
        return self._head(skip, training)

    def _head(self, skip, training=False):
        y = self.head_hidden(ops.relu(skip))
        y = self.drop(ops.relu(y), training=training)
        return self.head_out(y)

    # -- one row / one pixel at a time (sampling) ------------------------------------------
    # The state, flat: (horizontal caches, the row's links, vertical buffers (one per layer)).
    # The links are made anew at each row's start, so the loop over rows carries an empty
    # placeholder in their place (row_state): carried, they were copied (2 MB) at every row.
    # Row-wise tensors put the column first, (W, B, ...): a pixel's links are then one static
    # slice ``links[c]`` chosen by a switch on its column (XLA's dynamic slice of the same data
    # runs element by element: it took about a quarter of a pixel's time). One slice a branch: each
    # op of the W branches costs start-up time when a process loads the compiled sampler.
    def sample_state(self, batch) -> tuple:
        """(horizontal caches, links, vertical buffers...), see :meth:`_row_step` and :meth:`_pixel_step`."""
        c, n, w = self.config, self.config.layers, self.width
        h_state = tf.zeros(tf.stack([batch, self.kh * c.embed + (n - 1) * (self.kh - 1) * c.channels]))
        in_channels = [c.embed] + [c.channels] * (n - 1)
        bufs = tuple(tf.zeros(tf.stack([w + 2 * self.pad, batch, (self.kv - 1) * ch])) for ch in in_channels)
        return (h_state, self._no_links()) + bufs

    def _no_links(self):
        """The links' place in the state between rows: :meth:`sample_row` makes them anew."""
        return tf.zeros([0])

    def row_state(self, state):
        return (state[0], self._no_links()) + tuple(state[2:])

    def sample_row(self, r, canvas, state):
        h_state, bufs, w = state[0], tuple(state[2:]), self.width

        def next_row():  # the row above is finished: advance the vertical stack by it
            return self._row_step(tf.gather(canvas, (r - 1) * w + tf.range(w)), bufs)

        def first_row():  # no row above: the links are the horizontal biases alone
            biases = tf.concat([conv.bias for conv in self.h_convs], 0)
            return tf.tile(biases[None, None], tf.stack([w, tf.shape(canvas)[1], 1])), bufs

        links, bufs = tf.cond(r > 0, next_row, first_row)
        return (h_state, links) + tuple(bufs)

    def sample_logits(self, t, canvas, state):
        h_state, links = state[0], state[1]
        col = t % self.width
        valid = tf.cast(col > 0, h_state.dtype)  # 0 at a row's start: nothing to the left
        prev = tf.gather(canvas, tf.maximum(t - 1, 0))
        link = tf.switch_case(col, [lambda c=c: links[c] for c in range(self.width)])
        logits, h_state = self._pixel_step(prev, valid, link, h_state * valid)
        return logits, (h_state,) + tuple(state[1:])

    # Sampling runs in raw TensorFlow ops on the layers' variables: tracing Keras ops and layer
    # calls cost about twice as much Python, paid again by every process that samples.
    def _row_step(self, row, v_bufs):
        """Advance the vertical stack by one finished row (W, B) of indices.

        ``v_bufs[i]`` (W+2p, B, (kv-1)*C_in) holds the inputs of layer i for the kv-1 rows above,
        oldest first along the last axis, padded at the sides. Returns the next row's
        vertical->horizontal links with the horizontal biases added, all layers side by side
        (W, B, layers*2C), and the updated buffers. With the window's rows side by side in the
        channels, the convolution of one row is a (kernel x 1) convolution over the columns.
        """
        p, kv = self.pad, self.kv
        x = tf.gather(self.embedding.embeddings, row)  # (W, B, E)
        links, new_bufs = [], []
        for i in range(self.config.layers):
            padded = tf.pad(x, [[p, p], [0, 0], [0, 0]])
            window = tf.concat([v_bufs[i], padded], axis=-1)
            # the kv-1 newest rows; for kv = 2 the new row itself (a slice of the window is a copy)
            new_bufs.append(padded if kv == 2 else window[..., x.shape[-1] :])
            conv, to_h = self.v_convs[i], self.v_to_h[i]
            kernel = conv.kernel  # (kv, kernel, C_in, 2C) -> (kernel, 1, kv*C_in, 2C)
            kernel = tf.reshape(tf.transpose(kernel, [1, 0, 2, 3]), [kernel.shape[1], 1, kv * kernel.shape[2], -1])
            v_pre = tf.nn.conv2d(window[None], kernel, 1, "VALID")[0] + conv.bias
            links.append(tf.einsum("wbc,cd->wbd", v_pre, to_h.kernel) + (to_h.bias + self.h_convs[i].bias))
            x = gate(v_pre)
        return tf.concat(links, axis=-1), tuple(new_bufs)

    def _pixel_step(self, prev, valid, link, state):
        """Logits (B, K) of the pixel in the current row, and the new state.

        ``prev`` (B,) is the pixel to the left (``valid`` 0.0 at the row's start), ``link`` the
        layers' (B, layers*2C) from :meth:`_row_step` at this column. ``state`` (B, S) holds,
        side by side, the embeddings of the kh pixels before the left one and, for each later layer,
        the last kh-1 columns of its horizontal input. (Few, flat arguments: binding nested
        ones costs more than the step itself.)
        """
        e, c, n, kh = self.config.embed, self.config.channels, self.config.layers, self.kh
        x = tf.concat([state[:, e : kh * e], tf.gather(self.embedding.embeddings, prev) * valid], axis=1)
        new_state = [x]
        h, skip = None, None
        for i in range(n):
            if i > 0:
                start = kh * e + (i - 1) * (kh - 1) * c
                x = tf.concat([state[:, start : start + (kh - 1) * c], h], axis=1)
                new_state.append(x[:, c:])
            kernel = tf.reshape(self.h_convs[i].kernel, (-1, 2 * c))
            out = gate(tf.matmul(x, kernel) + link[:, 2 * c * i : 2 * c * (i + 1)])
            # the skip and the residual of each layer in one product
            if i < n - 1:
                both = tf.matmul(out, tf.concat([self.skips[i].kernel, self.h_res[i].kernel], axis=1))
                s, r = both[:, :c], both[:, c:] + self.h_res[i].bias
                h = r if i == 0 else h + r
            else:
                s = tf.matmul(out, self.skips[i].kernel)
            skip = s if skip is None else skip + s
        skip = skip + tf.add_n([s.bias for s in self.skips])
        y = tf.nn.relu(tf.matmul(tf.nn.relu(skip), self.head_hidden.kernel) + self.head_hidden.bias)
        return self.output_layer(y, self.head_out), tf.concat(new_state, axis=1)
