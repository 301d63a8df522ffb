"""Run the README's command lines in-process: a small shell for `gk-*` pipelines.

The README's ```sh blocks under its command sections are split into command lines; each line is
a pipeline of stages joined by ``|``, with an optional ``> FILE`` at the end. A ``gk-*`` stage
runs its typer app in this process (TensorFlow starts once for all of them), fed the previous
stage's bytes; ``cat FILE`` and ``echo`` are done here too. A block preceded by
``<!-- readme-test: skip REASON -->`` is skipped with that reason (lines that need two hosts or
GPUs).
"""

from __future__ import annotations

import importlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

COMMANDS = {"gk-quantize": "quantize", "gk-train": "train", "gk-sample": "sample", "gk-complete": "complete",
            "gk-interp": "interp", "gk-eval": "eval"}
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s+(.*?)\s*-->")


@dataclass
class Line:
    section: str
    number: int  # line number in the README
    text: str
    skip: str | None = None  # the reason, for lines not run here


def command_lines(readme: Path, sections: tuple[str, ...]) -> list[Line]:
    """Every command line of the ```sh blocks under the named ``##`` sections."""
    out: list[Line] = []
    section, in_block, skip, pending_skip = "", False, None, None
    for number, raw in enumerate(readme.read_text().splitlines(), 1):
        if not in_block and raw.startswith("## "):
            section = raw[3:].strip()
        if not in_block:
            m = SKIP.search(raw)
            if m:
                pending_skip = m.group(1)
                continue
            if raw.strip() == "```sh":
                in_block, skip, pending_skip = True, pending_skip, None
            elif raw.strip():
                pending_skip = None if not raw.startswith("<!--") else pending_skip
            continue
        if raw.strip() == "```":
            in_block = False
            continue
        if not any(section.startswith(s) for s in sections):
            continue
        text = _strip_comment(raw).strip()
        if text and not text.startswith("export "):
            out.append(Line(section, number, text, skip))
    return out


def _strip_comment(line: str) -> str:
    """The line without its trailing ``# comment`` (a # inside quotes stays)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def run_line(text: str, cwd: Path, runner) -> tuple[int, bytes, str]:
    """Run one pipeline in ``cwd``; returns (exit code of the first failing stage or 0, the
    last stage's stdout, the stages' stderr)."""
    tokens = shlex.split(text)
    output = None
    if ">" in tokens:
        at = tokens.index(">")
        tokens, output = tokens[:at], tokens[at + 1]
    stages, stage = [], []
    for tok in tokens:
        if tok == "|":
            stages.append(stage)
            stage = []
        else:
            stage.append(tok)
    stages.append(stage)
    data, errors = b"", []
    for argv in stages:
        code, data, err = _stage(argv, data, cwd, runner)
        errors.append(err)
        if code != 0:
            return code, data, "\n".join(errors)
    if output is not None:
        (cwd / output).write_bytes(data)
    return 0, data, "\n".join(errors)


def _stage(argv: list[str], stdin: bytes, cwd: Path, runner) -> tuple[int, bytes, str]:
    name, args = argv[0], argv[1:]
    if name == "cat":
        return 0, b"".join((cwd / a).read_bytes() for a in args), ""
    if name == "echo":
        return 0, (" ".join(args) + "\n").encode(), ""
    if name not in COMMANDS:
        raise ValueError(f"the README test cannot run {name!r}")
    app = importlib.import_module(f"cli.{COMMANDS[name]}").app
    result = runner.invoke(app, args, input=stdin or None, catch_exceptions=True, prog_name=name)
    err = result.stderr if result.stderr_bytes is not None else ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        err += f"\n{type(result.exception).__name__}: {result.exception}"
    return result.exit_code, result.stdout_bytes, err
