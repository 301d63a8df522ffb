"""What the zoo holds, for ``--list`` and ``python -m genkit``: families and shipped checkpoints.

Reads the registry's listing and the model cards beside the shipped checkpoints; imports no
TensorFlow, so listing is as fast as ``--help``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import models

HEADLINE = re.compile(r"^\|\s*\*\*(?P<what>[^*]+)\*\*\s*\|\s*\*\*(?P<value>[^*]+)\*\*")
FAMILY = re.compile(r"^An? `(?P<family>[a-z0-9-]+)` model")


@dataclass(frozen=True)
class Checkpoint:
    name: str  # what to type: mnist-vae, or a zoo name for its family's default
    path: Path
    family: str | None
    headline: str  # the card's headline figure, e.g. "test NLL 2.3663 bits/px"


def read_card(card: Path) -> tuple[str | None, str]:
    """A model card's family (its "A `vae` model" line) and its bold headline row
    (``| **test NLL** | **2.3663 bits/px** ...`` -> "test NLL 2.3663 bits/px")."""
    family, figure = None, "no model card"
    try:
        for line in card.read_text(encoding="utf-8").splitlines():
            m = FAMILY.match(line)
            if m and family is None:
                family = m["family"]
            m = HEADLINE.match(line)
            if m:
                figure = f"{m['what'].strip()} {m['value'].strip()}"
                break
    except OSError:
        pass
    return family, figure


def checkpoints() -> list[Checkpoint]:
    """Every shipped checkpoint, by its name, with the family names that default to it."""
    return [Checkpoint(path.stem, path, *read_card(path.with_suffix(".md")))
            for path in sorted(models.CHECKPOINT_DIR.glob("*.keras"))]


def defaults() -> dict[str, str]:
    """Zoo name -> the shipped checkpoint it stands for (pixelcnn -> pokemon-pixelcnn)."""
    return {name: Path(file).stem for name, file in models.SHIPPED.items() if Path(file).stem != name}


def names() -> list[str]:
    """Everything a model argument takes by name: the zoo names with a shipped default, then the
    shipped checkpoints' own names."""
    out = [alias for alias in defaults() if (models.CHECKPOINT_DIR / models.SHIPPED[alias]).is_file()]
    return out + [c.name for c in checkpoints() if c.name not in out]


def listing(family_filter=None) -> str:
    """The text of ``--list``: families (what each models), then shipped checkpoints (the names
    they answer to and their headline figures). ``family_filter`` keeps the families it accepts."""
    names = [n for n in models.names() if family_filter is None or family_filter(n)]
    lines = ["Model families (gk-train NAME):"]
    width = max(len(n) for n in names) if names else 0
    lines += [f"  {n:<{width}}  {models.about(n)}" for n in names]
    shipped = [c for c in checkpoints() if c.family is None or c.family in names]
    if shipped:
        aliases: dict[str, list[str]] = {}
        for alias, stem in defaults().items():
            aliases.setdefault(stem, []).append(alias)
        lines += ["", "Shipped checkpoints (a name, or the family's name for its default):"]
        width = max(len(c.name) for c in shipped)
        for c in shipped:
            also = f" (= {', '.join(aliases[c.name])})" if c.name in aliases else ""
            lines.append(f"  {c.name:<{width}}  {c.family or '?'}{also}: {c.headline}")
    return "\n".join(lines)
