"""Where a pixel model's compiled sampling loop spends its time: XLA's own trace of one batch.

Runs the checkpoint's raster loop (``PixelModel._sample_batch``) on one thread (TensorFlow's
intra- and inter-op pools of one), as each of ``generate``'s sampling threads runs its part of a
batch, with ``XLA_FLAGS=--xla_cpu_enable_xprof_traceme=true`` so that every XLA kernel is traced,
under ``tf.profiler``. Prints the batch's wall time (best of ``--repeat``, without the profiler)
and the traced kernels by total time, in µs a pixel: those run once a pixel (the horizontal
chain and the draw) and those run once a row (the vertical stack). The profile adds time of its
own, about a tenth.

    python bench/sampling_profile.py [pixelcnn|pixelrnn|mixture] [--batch 32] [--top 30]

The README's "where the time goes" figures come from this script.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true").strip()
os.environ["GENKIT_COMPILED"] = "0"  # the Keras model's loop, traced here (the cached sampler is the same loop)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("family", nargs="?", default="pixelcnn", choices=["pixelcnn", "pixelrnn", "mixture"])
    p.add_argument("--batch", type=int, default=32, help="images in the batch (one thread's part of 64)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args(argv)

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from genkit import models
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    model = models.load(f"pokemon-{args.family}")
    hw = model.height * model.width
    canvas, given = tf.zeros((hw, args.batch), tf.int32), tf.zeros((hw, args.batch), tf.bool)
    uniforms = tf.random.stateless_uniform((hw, args.batch), seed=[0, 0], dtype=tf.float64)
    temperature = tf.constant(1.0, tf.float64)
    run = lambda: model._sample_batch(canvas, given, uniforms, temperature).numpy()  # noqa: E731
    run()  # compile
    best = min((lambda t: (run(), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(args.repeat))
    print(f"{args.family}, batch {args.batch}, one thread: {best:.3f} s a batch, {best / hw * 1e6:.0f} µs a pixel "
          f"({args.batch / best:.1f} images/s), best of {args.repeat}")

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        run()
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(Path(glob.glob(f"{logdir}/plugins/profile/*/*.xplane.pb")[0]).read_bytes())
    total, count = collections.Counter(), collections.Counter()
    for plane in space.planes:
        names = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                name = names.get(event.metadata_id, "?")
                total[name] += event.duration_ps / 1e6  # µs
                count[name] += 1
    rows = model.height
    kernels = [(n, t) for n, t in total.items() if count[n] >= rows - 1 and not n.startswith(("while", "Thunk"))]
    per_pixel = sum(t for n, t in kernels if count[n] >= hw - model.width and not n.startswith("cond"))
    print(f"traced kernels run once a pixel: {per_pixel / hw:.0f} µs a pixel in all (conditionals not counted twice)")
    print("(cond* called once a row: the row's work, sample_row; once a pixel: the draw, pick_tf; indexed_case: the "
          "PixelCNN's column switch; the kernels inside a cond are listed too)")
    print(f"{'µs a pixel':>10}  {'calls':>6}  kernel")
    for name, t in sorted(kernels, key=lambda kv: -kv[1])[: args.top]:
        print(f"{t / hw:10.1f}  {count[name]:6d}  {name}")


if __name__ == "__main__":
    main()
