"""``python -m genkit``: the commands genkit installs, each with what it does."""

from __future__ import annotations

import ast
import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, entry_points, version


def commands() -> list[tuple[str, str]]:
    """(command, first line of its module's docstring) for every gk-* console script."""
    out = []
    for ep in sorted(entry_points(group="console_scripts"), key=lambda e: e.name):
        if not ep.name.startswith("gk-"):
            continue
        module = ep.value.split(":")[0]
        spec = importlib.util.find_spec(module)
        doc = ""
        if spec and spec.origin:
            with open(spec.origin, encoding="utf-8") as f:
                doc = (ast.get_docstring(ast.parse(f.read())) or "").splitlines()[0]
        out.append((ep.name, doc.split(": ", 1)[-1] if doc.startswith(ep.name) else doc))
    return out


def main() -> int:
    try:
        ver = version("genkit")
    except PackageNotFoundError:
        ver = "not installed"
    found = commands()
    print(f"genkit {ver}: small Unix-style commands that train and use generative models.\n")
    if not found:
        print("No gk-* commands are installed (pip install -e . installs them).")
        return 1
    width = max(len(name) for name, _ in found)
    for name, doc in found:
        print(f"  {name:<{width}}  {doc}")
    print("\nEach answers --help; --list shows the model zoo and the shipped checkpoints.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
