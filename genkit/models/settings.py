"""A family's settings: one dataclass, the single source of its defaults, bounds and checks.

Each family's ``config.py`` defines ``<MODEL_CLASS>Config``, a :class:`Settings` dataclass whose
fields are the settings with their defaults, and whose class variables say what values they may
take (``LIMITS``, ``CHOICES``, the family's own ``check``). The model is built from it
(``self.config, rest = XConfig.split(settings)`` in its constructor), so the bounds are checked
in one place whether the model comes from ``gk-train``, a checkpoint or Python, and
:func:`resolve_model_config` layers a run's settings over the same defaults. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import ClassVar

from ..errors import GenkitError
from . import check_limits, config_class

#: keyword arguments a model passes on to keras.Model rather than to its config
KERAS_KWARGS = ("name", "trainable", "dtype", "autocast")


@dataclasses.dataclass
class Settings:
    """Base of every family's config dataclass (fields: settings with their defaults)."""

    #: KEY: (lowest, above-all) with None for no bound
    LIMITS: ClassVar[dict[str, tuple]] = {}
    #: KEY: the values it may take
    CHOICES: ClassVar[dict[str, tuple]] = {}
    #: what the family learns from: "images" (genkit.io.Stream) or "text" (genkit.text.Sentences)
    DATA_KIND: ClassVar[str] = "images"
    #: settings of the training loss alone (no weight depends on them): a resumed run may change
    #: them (``gk-train --resume --set KEY=VALUE``), e.g. to fine-tune with a larger KL budget
    TRAINING_ONLY: ClassVar[tuple[str, ...]] = ()
    #: keys that older checkpoints hold and the family no longer has: dropped when loading
    RETIRED: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        # Python callers may give 10.0 or "10" for an int, as the constructors always allowed.
        for f in dataclasses.fields(self):
            value, kind = getattr(self, f.name), type(f.default)
            if kind not in (int, float, bool) or type(value) is kind:
                continue
            try:
                setattr(self, f.name, _parse(f.name, value, kind) if isinstance(value, str) else kind(value))
            except (TypeError, ValueError):
                raise GenkitError(f"{f.name} must be {kind.__name__}, got {value!r}") from None

    def check(self) -> None:
        """The family's own checks beyond ``LIMITS`` and ``CHOICES`` (raise GenkitError)."""

    def validate(self) -> Settings:
        """Refuse a value no model can have, in one line; the config itself when all is well."""
        check_limits(self.LIMITS, dataclasses.asdict(self))
        for key, allowed in self.CHOICES.items():
            if getattr(self, key) not in allowed:
                raise GenkitError(f"{key} must be {_either(allowed)}, got {getattr(self, key)!r}")
        self.check()
        return self

    @classmethod
    def defaults(cls) -> dict:
        return dataclasses.asdict(cls())

    @classmethod
    def split(cls, settings: dict) -> tuple[Settings, dict]:
        """(the validated config of the settings' own keys, the keyword arguments for keras.Model);
        keys in ``RETIRED`` are dropped, any other key is refused."""
        own = {f.name for f in dataclasses.fields(cls)}
        mine, rest = {}, {}
        for key, value in settings.items():
            if key in own:
                mine[key] = value
            elif key in KERAS_KWARGS:
                rest[key] = value
            elif key not in cls.RETIRED:
                raise GenkitError(f"no setting {key!r} (settings: {', '.join(sorted(own))})")
        return cls(**mine).validate(), rest


def _either(values) -> str:
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def _parse(key: str, text: str, kind: type):
    """A setting's value from text (``--set KEY=VALUE``), as the type of its default."""
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise GenkitError(f"{key} must be true or false, got {text!r}")
    try:
        return kind(text)
    except ValueError:
        raise GenkitError(f"{key} must be {kind.__name__}, got {text!r}") from None


def _coerce(family: str, key: str, value, defaults: dict):
    """A run's setting as the type of its default: text is parsed, other values must have that type
    already (an int passes for a float)."""
    if key not in defaults:
        raise GenkitError(f"{family} has no setting {key!r} (settings: {', '.join(defaults)})")
    kind = type(defaults[key])
    if isinstance(value, str):
        return _parse(key, value, kind) if kind is not str else value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise GenkitError(f"{key} must be {kind.__name__}, got {value!r}")
    return value


def resolve_model_config(family: str, config_file: str | None = None, overrides: list[str] | None = None,
                         named: list | None = None) -> dict:
    """Family defaults, then a JSON file (its ``model`` object, or the whole file), then KEY=VALUE
    overrides; unknown keys, bad types and values out of bounds fail in one line. ``named``, if
    given, receives the keys the file and the overrides set (a value may equal its default)."""
    defaults = config_class(family).defaults()
    out = dict(defaults)
    named = [] if named is None else named
    if config_file:
        try:
            loaded = json.loads(Path(config_file).read_text())
        except (OSError, ValueError) as e:
            raise GenkitError(f"cannot read config ({e})", source=config_file) from None
        if not isinstance(loaded, dict):
            raise GenkitError("config must be a JSON object", source=config_file)
        loaded = loaded.get("model", loaded)
        for key, value in loaded.items():
            out[key] = _coerce(family, key, value, defaults)
            named.append(key)
    for item in overrides or []:
        if "=" not in item:
            raise GenkitError(f"--set takes KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = _coerce(family, key.strip(), value.strip(), defaults)
        named.append(key.strip())
    return dataclasses.asdict(config_class(family)(**out).validate())
