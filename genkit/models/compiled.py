"""Compiled programs kept on disk, so that a command's second run starts fast.

Two caches under ``$GENKIT_CACHE`` (else ``$XDG_CACHE_HOME/genkit``, else ``~/.cache/genkit``):

* ``xla/``: XLA's compiled code (TensorFlow's persistent compilation cache), which skips the
  compile of the raster loop (:func:`use_compilation_cache`).
* ``samplers/KEY/``: a pixel model's raster loop with its weights as a TensorFlow SavedModel
  (:func:`save`), which skips what lies between ``import tensorflow`` and the first pixel:
  importing Keras, rebuilding the Keras model from its checkpoint and tracing the loop (about a
  thousand graph ops for the gated PixelCNN). :func:`load` gives a :class:`CompiledPixelModel`
  that samples and completes as the Keras model does (genkit.models.raster), image for image.

KEY hashes the checkpoint's bytes with the TensorFlow version and the source of the code that
builds the loop, so a retrained checkpoint or edited code never meets a stale program. A sampler
is written once, by the first command that samples from the checkpoint
(genkit.models.load_sampler); any trouble reading or writing the cache falls back to the Keras
model, and a damaged entry is removed.
A SavedModel holds graph ops and tensors only (no Python objects), and is written by genkit itself
from a checkpoint that passed :func:`genkit.models.load`'s checks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

from .capabilities import Completes, Samples
from .raster import RasterSampling, ReadsImages

#: the families whose sampling is one compiled raster loop (genkit.models.base.PixelModel)
FAMILIES = ("pixelrnn", "pixelcnn", "mixture")
#: the code that builds the loop: a change to any of these files makes a new key
_SOURCES = ("raster.py", "base.py", "compiled.py")
_META = "genkit.json"
#: samplers kept at most; the least recently used go first (a run folder sampled after every epoch
#: makes a new one each time)
MAX_SAMPLERS = 16


def cache_root() -> Path:
    """$GENKIT_CACHE, else $XDG_CACHE_HOME/genkit, else ~/.cache/genkit."""
    root = os.environ.get("GENKIT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "genkit"
    return Path(root)


def use_compilation_cache() -> Path | None:
    """Keep XLA's compiled sampling loops on disk, so that a later process skips the compile:
    in ``cache_root()/xla``. Nothing is changed where TF_XLA_FLAGS already names a cache, or the
    folder cannot be made. Must run before TensorFlow's first XLA compile (it reads TF_XLA_FLAGS
    then); returns the folder."""
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if "persistent_cache_directory" in flags:
        return None
    folder = cache_root() / "xla"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={folder}".strip()
    return folder


def enabled() -> bool:
    """False where $GENKIT_COMPILED is 0 (always build the Keras model)."""
    return os.environ.get("GENKIT_COMPILED", "1").strip() != "0"


def key(path: str | os.PathLike, family: str) -> str:
    """The cache key of a checkpoint's sampler: its bytes, the TensorFlow version, and the source
    of the code that builds the loop (this package's raster, base and compiled modules and every
    pixel family's model module). Hashed once per process for a file of the same size and time."""
    stat = os.stat(path)
    return _key(str(Path(path).resolve()), family, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _key(path: str, family: str, size: int, mtime_ns: int) -> str:
    import tensorflow as tf

    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    h.update(f"{family}\0{tf.__version__}\0{sys.version_info[:2]}\0".encode())
    # every pixel family's module: a mixture's loop runs its members' code
    for source in [here / name for name in _SOURCES] + [here / f.replace("-", "_") / "model.py" for f in FAMILIES]:
        h.update(source.read_bytes() if source.is_file() else b"-")
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:32]


def folder_of(path: str | os.PathLike, family: str) -> Path:
    return cache_root() / "samplers" / key(path, family)


class CompiledPixelModel(RasterSampling, ReadsImages, Samples, Completes):
    """A pixel model's sampler as :func:`save` wrote it: the raster loop and the facts the
    commands read (family, size, palette, input preparation), without Keras."""

    def __init__(self, meta: dict, module, checkpoint_path: str | None = None):
        self.family = meta["family"]
        self.height, self.width = int(meta["height"]), int(meta["width"])
        self.palette = np.asarray(meta["palette"], dtype=np.uint8).reshape(-1, 3)
        self.num_colors = len(self.palette)
        self.input_prep = meta.get("input_prep")
        self.parallel_sampling = bool(meta.get("parallel_sampling", False))
        self.checkpoint_path = checkpoint_path
        self._module = module  # holds the weights: the loop alone would outlive them

    def __repr__(self) -> str:
        return f"CompiledPixelModel({self.family}, {self.height}x{self.width}, {self.num_colors} colours)"

    def _sample_batch(self, canvas, given, uniforms, temperature):
        return self._module.sample_batch(canvas, given, uniforms, temperature)


def load(path: str | os.PathLike, family: str) -> CompiledPixelModel | None:
    """The checkpoint's compiled sampler from the cache, or None (none yet, turned off with
    GENKIT_COMPILED=0, or unreadable: the caller then loads the Keras model)."""
    if family not in FAMILIES or not enabled():
        return None
    folder = None
    try:
        folder = folder_of(path, family)
        if not (folder / _META).is_file():
            return None
        meta = json.loads((folder / _META).read_text())
        os.utime(folder / _META)  # used now: the last to be pruned
        use_compilation_cache()
        import tensorflow as tf

        module = tf.saved_model.load(str(folder))
        return CompiledPixelModel(meta, module, checkpoint_path=str(path))
    except Exception:  # a damaged entry: removed (the next save writes it again); the Keras model serves
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return None


def save(model) -> Path | None:
    """Write ``model``'s (a Keras pixel model loaded from a checkpoint) sampler into the cache,
    unless it is there; returns its folder, or None where nothing was written. Written to a
    temporary folder and renamed, so a reader never sees half of one."""
    import tensorflow as tf

    path = getattr(model, "checkpoint_path", None)
    if path is None or model.family not in FAMILIES or not enabled():
        return None
    tmp = None
    try:
        folder = folder_of(path, model.family)
        if (folder / _META).is_file():
            return folder
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f".{folder.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        loop = model._sample_batch.python_function  # bound to the model: (canvas, given, uniforms, temperature)
        module = tf.Module()
        module.weights = list(model.weights)
        module.sample_batch = tf.function(
            lambda canvas, given, uniforms, temperature: loop(canvas, given, uniforms, temperature),
            jit_compile=True, autograph=False, input_signature=[
                tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.bool),
                tf.TensorSpec([None, None], tf.float64), tf.TensorSpec([], tf.float64)])
        tf.saved_model.save(module, str(tmp))
        meta = {"family": model.family, "height": model.height, "width": model.width, "palette": model.palette.tolist(),
                "input_prep": model.input_prep, "parallel_sampling": bool(model.parallel_sampling),
                "checkpoint": str(path)}
        (tmp / _META).write_text(json.dumps(meta))
        try:
            os.replace(tmp, folder)
        except OSError:  # another process wrote it first
            shutil.rmtree(tmp, ignore_errors=True)
        prune(folder.parent, keep=folder)
        return folder if (folder / _META).is_file() else None
    except Exception:  # a cache that cannot be written (full, read-only): no half-written folder stays
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        return None


def prune(samplers: Path, keep: Path | None = None, limit: int | None = None) -> None:
    """Delete the least recently used samplers beyond ``limit`` (:data:`MAX_SAMPLERS`), never ``keep``."""
    limit = MAX_SAMPLERS if limit is None else limit
    entries = []
    for folder in samplers.iterdir():
        try:
            entries.append(((folder / _META).stat().st_mtime, folder))
        except OSError:
            continue  # a temporary folder being written, or not ours
    entries.sort(reverse=True)
    for _, folder in entries[limit:]:
        if folder != keep:
            shutil.rmtree(folder, ignore_errors=True)
