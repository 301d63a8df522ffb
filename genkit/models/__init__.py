"""The model zoo: one registry, keyed by the CLI name, over one module (package) per family.

``FAMILIES`` names every built-in family and where it lives, so that ``--help`` and argument
checks can list them without importing TensorFlow: a family is a package with ``config.py`` (its
settings dataclass, see genkit.models.settings; no TensorFlow) and ``model.py`` (its Keras model,
which registers itself with :func:`register` when imported). A family defined outside genkit
registers at run time with ``@register(name, about=..., config=...)`` and is then served like
the built-in ones. A checkpoint is one ``.keras`` file that carries its family, its config
(palette included) and its weights; :func:`load` needs only the path, or a bare zoo name for the
shipped checkpoint.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import zipfile
from pathlib import Path

from ..errors import GenkitError

#: CLI name -> (package, what it models). Only families that work are listed.
FAMILIES: dict[str, tuple[str, str]] = {
    "pixelrnn": ("genkit.models.pixelrnn", "stacked LSTM over the raster order of palette indices"),
    "pixelcnn": ("genkit.models.pixelcnn", "gated PixelCNN (vertical + horizontal stacks, no blind spot)"),
    "mixture": ("genkit.models.mixture", "per-pixel mixture of trained pixel models (--set members=A,B,...): "
                "their conditionals averaged with weights learned on the val split"),
    "masked": ("genkit.models.masked", "masked discrete diffusion: a bidirectional net fills hidden pixels from every visible one, in S steps"),
    "vae": ("genkit.models.vae", "variational autoencoder: code m + exp(σ/2)·e, loss reconstruction + KL"),
    "ae": ("genkit.models.ae", "plain autoencoder (the VAE's networks, no noise, no KL), for comparison"),
    "cvae": ("genkit.models.cvae", "conditional VAE: encoder and decoder see the class label"),
    "gan": ("genkit.models.gan", "DCGAN: generator and discriminator trained in turn, non-saturating loss"),
    "classifier": ("genkit.models.classifier", "small convnet digit classifier: the judge of genkit.realness"),
    "sentence-vae": ("genkit.models.sentence_vae", "sentence VAE (Bowman et al. 2016): LSTM encoder -> code -> LSTM decoder; "
                     "--set latent=0 is a plain LSTM language model"),
}
#: Shipped checkpoint for each bare zoo name.
CHECKPOINT_DIR = Path(os.environ.get("GENKIT_CHECKPOINTS", Path(__file__).resolve().parents[2] / "checkpoints"))
SHIPPED = {"pixelrnn": "pokemon-pixelrnn.keras", "pixelcnn": "pokemon-pixelcnn.keras", "mixture": "pokemon-mixture.keras",
           "masked": "pokemon-masked.keras", "vae": "pokemon-vae.keras",
           "cvae": "mnist-cvae.keras", "gan": "mnist-gan.keras", "classifier": "mnist-classifier.keras",
           "sentence-vae": "ptb-sentence-vae.keras", "ptb-sentence-vae": "ptb-sentence-vae.keras",
           "sonnet-sentence-vae": "sonnet-sentence-vae.keras", "tang-sentence-vae": "tang-sentence-vae.keras"}

_REGISTRY: dict[str, type] = {}  # name -> model class, once its module is imported
_ADDED: dict[str, tuple[str, type]] = {}  # families registered from outside genkit: name -> (about, config class)


def check_limits(limits: dict, cfg: dict) -> None:
    """Refuse a setting outside its family's ``LIMITS`` (KEY: (lowest, above-all), None for no
    bound) in one line; keys not in ``cfg`` are skipped. Called by each config's ``validate``."""
    for key, (low, above) in limits.items():
        if key not in cfg:
            continue
        value = cfg[key]
        if (low is not None and value < low) or (above is not None and value >= above):
            bound = f"at least {low}" if above is None else f"in [{low}, {above})"
            raise GenkitError(f"{key} must be {bound}, got {value}")


def names() -> list[str]:
    """Every family: the built-in ones, then those registered at run time."""
    return [*FAMILIES, *(name for name in _ADDED if name not in FAMILIES)]


def _known(name: str) -> None:
    if name not in FAMILIES and name not in _ADDED:
        raise GenkitError(f"unknown model {name!r} (choose from {', '.join(names())})")


def about(name: str) -> str:
    """What a family models, in one line."""
    _known(name)
    return FAMILIES[name][1] if name in FAMILIES else _ADDED[name][0]


def config_class(name: str) -> type:
    """A family's settings dataclass (its config module's ``<MODEL_CLASS>Config``), without importing TensorFlow."""
    _known(name)
    if name in _ADDED:
        return _ADDED[name][1]
    module = importlib.import_module(FAMILIES[name][0] + ".config")
    return getattr(module, module.MODEL_CLASS + "Config")


def data_kind(name: str) -> str:
    """What a family learns from: "text" (sentences, genkit.text) or "images"; read from its
    config's ``DATA_KIND`` without importing TensorFlow."""
    return config_class(name).DATA_KIND


def register(name: str, *, about: str | None = None, config: type | None = None):
    """Class decorator: add a family to the registry and make it Keras-serializable.

    A built-in family is listed in ``FAMILIES``; a family from outside genkit gives its one-line
    description (``about``) and its settings dataclass (``config``, a genkit.models.settings.Settings)."""

    def wrap(cls):
        import keras

        if name not in FAMILIES:
            if config is None:
                raise RuntimeError(f"model family {name!r} is not built in: register it with about= and config=")
            if name in _ADDED and _ADDED[name][1] is not config:
                raise RuntimeError(f"model family {name!r} is registered twice")
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise RuntimeError(f"model family {name!r} is registered twice")
        cls.family = name
        cls = keras.saving.register_keras_serializable(package="genkit", name=cls.__name__)(cls)
        _REGISTRY[name] = cls
        if name not in FAMILIES:
            _ADDED[name] = (about or "", config)
        return cls

    return wrap


def get(name: str) -> type:
    """The model class of a family, importing its module (and TensorFlow) on first use."""
    _known(name)
    if name not in _REGISTRY:
        importlib.import_module(FAMILIES[name][0] + ".model")
    return _REGISTRY[name]


def resolve(spec: str) -> Path:
    """A checkpoint path, a run folder (its model.keras), a bare zoo name (its shipped checkpoint) or
    the name of a shipped checkpoint (``mnist-vae`` for checkpoints/mnist-vae.keras).

    Anything else is refused in one line: a path (a spec with a folder or a suffix) as "no such
    model file"; a name as an unknown model, with the nearest valid name and all of them."""
    if not spec.strip():
        raise GenkitError("no model given: give a .keras file, run folder or zoo name")
    path = Path(spec)
    if path.is_dir():
        if not (path / "model.keras").is_file():
            raise GenkitError("a folder without model.keras: give a .keras file or a run folder", source=spec)
        path = path / "model.keras"
    if path.is_file():
        return path
    if spec in SHIPPED and (CHECKPOINT_DIR / SHIPPED[spec]).is_file():
        return CHECKPOINT_DIR / SHIPPED[spec]
    if _is_name(spec) and (CHECKPOINT_DIR / f"{spec}.keras").is_file():
        return CHECKPOINT_DIR / f"{spec}.keras"  # a shipped checkpoint by its name: mnist-vae
    if spec in SHIPPED:
        raise GenkitError(f"no shipped checkpoint for {spec!r} (expected {CHECKPOINT_DIR / SHIPPED[spec]}); run `make checkpoints`")
    if spec in FAMILIES or spec in _ADDED:
        data = "ptb" if data_kind(spec) == "text" else "pokemon"
        raise GenkitError(f"no checkpoint is shipped for {spec!r}: train one (gk-train {spec} --dataset {data} -o runs/{spec}) "
                          f"and give its run folder, runs/{spec}")
    if not _is_name(spec):
        raise GenkitError("no such model file", source=spec)
    valid = model_names()
    near = difflib.get_close_matches(spec, valid, n=1, cutoff=0.6)
    hint = f"did you mean {near[0]}? " if near else ""
    raise GenkitError(f"unknown model {spec!r} ({hint}models: {', '.join(valid)}; or a .keras file or run folder)")


def _is_name(spec: str) -> bool:
    """A bare name (a zoo name or a shipped checkpoint's), not a path: no folder, no suffix."""
    return bool(spec) and "/" not in spec and os.sep not in spec and "." not in spec


def model_names() -> list[str]:
    """Every name :func:`resolve` takes besides a path: the zoo's families, then the shipped
    checkpoints' names (those in checkpoints/ and those of ``SHIPPED``)."""
    shipped = {Path(name).stem for name in SHIPPED.values()}
    if CHECKPOINT_DIR.is_dir():
        shipped |= {p.stem for p in CHECKPOINT_DIR.glob("*.keras") if _is_name(p.stem)}
    return list(dict.fromkeys([*names(), *sorted(shipped)]))


def family_of(path: Path) -> str:
    """Read a .keras file's family from its config.json without loading anything else."""
    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, UnicodeDecodeError, NotImplementedError, RuntimeError):
        raise GenkitError("not a genkit model (.keras) file", source=str(path)) from None
    registered = str(config.get("registered_name") or "")
    for name, cls_name in _class_names().items():
        if registered == f"genkit>{cls_name}":
            return name
    raise GenkitError(f"not a genkit model (it holds {registered or config.get('class_name')!r})", source=str(path))


def _class_names() -> dict[str, str]:
    # The class name of each built-in family is its config module's MODEL_CLASS, read without
    # importing keras; a family registered at run time has its class at hand.
    out = {name: importlib.import_module(module + ".config").MODEL_CLASS for name, (module, _) in FAMILIES.items()}
    out.update({name: _REGISTRY[name].__name__ for name in _ADDED})
    return out


def load(spec: str):
    """A model from a checkpoint path, run folder or bare zoo name, loaded in Keras safe mode;
    a damaged file, or one whose weights hold NaN or inf, is refused in one line."""
    path = resolve(spec)
    family = family_of(path)
    get(family)
    import keras
    import numpy as np

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as e:  # a damaged or foreign file: one line, not a traceback
        raise GenkitError(f"cannot load model ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})", source=str(path)) from None
    for variable in model.weights:
        value = keras.ops.convert_to_numpy(variable)
        if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
            raise GenkitError(f"broken checkpoint: weight {variable.path} holds NaN or inf", source=str(path))
    model.checkpoint_path = str(path)
    return model


def load_sampler(spec: str):
    """For drawing and completing images: a pixel model's compiled sampler (genkit.models.compiled:
    no Keras, no tracing), written to the cache from the Keras model on first use; else (another
    family, GENKIT_COMPILED=0, or a cache that cannot be written) :func:`load`'s model. Both draw
    the same images for the same seed."""
    from . import compiled

    path = resolve(spec)
    family = family_of(path)
    fast = compiled.load(path, family)
    if fast is not None or family not in compiled.FAMILIES:
        return fast or load(str(path))
    model = load(str(path))
    # the first process samples through the saved loop too, so that XLA's cache holds the program
    # that later processes run (the Keras model's own loop would be compiled under another key)
    return (compiled.load(path, family) if compiled.save(model) is not None else None) or model


def save(model, path: str | os.PathLike, *, optimizer: bool = True, half: bool = False) -> Path:
    """Save atomically: a temporary .keras file in the same folder, then a rename.

    ``optimizer=False`` writes the model alone (a fresh copy with the same weights), the form
    that ships: a third of the size of a checkpoint that can resume training. ``half`` also stores
    the float32 weights as float16 (half the file; loading casts them back to float32): for
    shipped checkpoints whose cards measure the file as stored.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.keras")
    if not optimizer and getattr(model, "optimizer", None) is not None:
        bare = type(model).from_config(model.get_config())
        bare.build_for_data()
        bare.set_weights(model.get_weights())
        model = bare
    try:
        model.save(tmp)
        if half:
            _halve_weights(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _halve_weights(path: Path) -> None:
    """Rewrite a .keras file's float32 weights as float16, in place; arrays that float16 cannot
    hold (a magnitude of 65504 or more, such as a -1e9 mask) stay float32."""
    import io

    import h5py
    import numpy as np

    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info.filename)) for info in z.infolist()]
    out = io.BytesIO()
    with h5py.File(io.BytesIO(dict((i.filename, b) for i, b in entries)["model.weights.h5"]), "r") as src, \
            h5py.File(out, "w") as dst:
        dst.attrs.update(src.attrs)

        def copy(name, obj):
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                if data.dtype == np.float32 and (data.size == 0 or np.abs(data).max() < 65504):
                    data = data.astype(np.float16)
                made = dst.create_dataset(name, data=data)
            else:
                made = dst.require_group(name)
            made.attrs.update(obj.attrs)

        src.visititems(copy)
    with zipfile.ZipFile(path, "w") as z:
        for info, data in entries:
            z.writestr(info, out.getvalue() if info.filename == "model.weights.h5" else data)
