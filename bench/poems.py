"""Benchmark: poem models as gk-interp uses them -- reconstruction, likelihood and the path between lines.

For each model given (default: the shipped ``tang-sentence-vae``; with ``--dataset sonnets``
the shipped ``sonnet-sentence-vae``), on the data set's **test** split (poems never trained on):

* **reconstruction and likelihood** on ``--lines`` test lines drawn at random (seeded; 0: all):
  ``evaluate_stream`` with ``-k`` importance samples gives the NLL (IWAE bound), the −ELBO, the
  KL, and the exact-line rate and token accuracy of greedy decoding from the posterior mean, for
  5- and 7-character lines separately (what ``gk-interp`` prints as a path's ends);
* **the path between lines**: ``--pairs`` random pairs of test lines (Tang: a third 5 with 5,
  a third 7 with 7, a third 5 with 7), ``gk-interp A B --steps 8`` each (``interpolate``): the
  share of paths whose ends are A and B (sonnets: tokenised and lower-cased, as stored), the
  share of in-between lines that are well formed (no ``<unk>``; Tang: 5 or 7 characters), and
  the mean number of in-between lines that differ from each other and from both ends (the path
  moves; it does not jump from A to B once).

Targets (issue 15): Tang exact lines >= 90% for 5- and for 7-character lines (stretch 97%);
sonnet token accuracy >= 80% (stretch 90%); >= 95% well formed; >= 3 distinct in-between lines
on average; NLL at most 5 nats above a plain LSTM LM's (not scored here: give its figure with
``--lm-nll``).

Results go to ``<out>/poems.md`` and ``poems.json`` (sonnets: ``sonnets.md``, ``sonnets.json``).

    python bench/poems.py [MODEL ...] [--dataset tang|sonnets] [--lines 2000] [--pairs 200] [-k 10] [--out bench/results]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/poems.py` works without PYTHONPATH

from bench.common import Run, logger, meta_lines, shown, write_report  # noqa: E402
from genkit import datasets, models  # noqa: E402
from genkit.text import tokenize  # noqa: E402

STEPS = 8
TARGET_EXACT, STRETCH_EXACT, TARGET_FORMED, TARGET_MOVES, NLL_MARGIN = 0.90, 0.97, 0.95, 3.0, 5.0
TARGET_TOKENS, STRETCH_TOKENS = 0.80, 0.90  # sonnets: token accuracy
log = logger("poems")


def pick_pairs(texts: list[str], n: int, rng: np.random.Generator, chars: bool = True) -> list[tuple[str, str]]:
    """``n`` random pairs: Tang (``chars``) a third 5 with 5, a third 7 with 7, the rest 5 with 7."""
    if not chars:
        return [(texts[rng.integers(len(texts))], texts[rng.integers(len(texts))]) for _ in range(n)]
    by_len = {k: [t for t in texts if len(t) == k] for k in (5, 7)}
    kinds = [(5, 5)] * (n // 3) + [(7, 7)] * (n // 3) + [(5, 7)] * (n - 2 * (n // 3))
    return [(by_len[a][rng.integers(len(by_len[a]))], by_len[b][rng.integers(len(by_len[b]))]) for a, b in kinds]


def path_figures(model, pairs: list[tuple[str, str]], steps: int = STEPS, examples: int = 3) -> dict:
    """Ends right, well-formed in-between lines, distinct in-between lines, over ``pairs``; the
    paths of ``examples`` pairs spread over the kinds."""
    chars = model.unit == "char"
    stored = (lambda t: t) if chars else (lambda t: " ".join(tokenize(t, keep=model.index)).lower())  # as the corpus writes it
    ends = formed = inner = 0
    moves, paths = [], []
    for a, b in pairs:
        lines = model.interpolate_text(a, b, steps, warn=lambda msg: None)
        paths.append(lines)
        ends += stored(lines[0]) == a and stored(lines[-1]) == b
        middle = lines[1:-1]
        inner += len(middle)
        formed += sum((len(t) in (5, 7) or not chars) and "<unk>" not in t and t.strip() != "" for t in middle)
        moves.append(len(set(middle) - {lines[0], lines[-1]}))
    return {"pairs": len(pairs), "ends_right": ends / len(pairs), "well_formed": formed / max(1, inner),
            "distinct_between": float(np.mean(moves)), "examples": paths[:: max(1, len(pairs) // examples)][:examples]}


def score(spec: str, test, lines: int, pairs: int, k: int, seed: int) -> dict:
    model = models.load(spec)
    rng = np.random.default_rng(seed)
    subset = test if not lines or lines >= len(test) else test.select(np.sort(rng.choice(len(test), lines, replace=False)))
    log(f"{spec}: {len(subset)} lines, k = {k}")
    ev = dict(model.evaluate_stream(subset, k=k, seed=seed))
    log(f"{spec}: {pairs} pairs, {STEPS} steps")
    path = path_figures(model, pick_pairs(test.texts, pairs, np.random.default_rng([seed, 1]), chars=model.unit == "char"))
    by = ev.get("by_length", {})
    config = model.get_config()
    settings = {key: config[key] for key in ("latent", "embed", "hidden", "bidirectional", "kl_floor", "kl_floor_token",
                                             "word_dropout", "bow", "dropout", "sampled") if key in config}
    return {"model": shown(getattr(model, "checkpoint_path", None) or spec), "settings": settings,
            "lines": len(subset), "k": k, "nll_nats": ev["nll_nats"], "nelbo_nats": ev["nelbo_nats"], "kl_nats": ev["kl_nats"],
            "exact_lines": ev["exact_lines"], "token_accuracy": ev["token_accuracy"],
            "exact_5": by.get("5", {}).get("exact_lines"), "exact_7": by.get("7", {}).get("exact_lines"),
            "tokens_5": by.get("5", {}).get("token_accuracy"), "tokens_7": by.get("7", {}).get("token_accuracy"), **path}


def pct(v) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


TITLE = {"tang": "Tang poem models", "sonnets": "Sonnet models"}
DEFAULT = {"tang": "tang-sentence-vae", "sonnets": "sonnet-sentence-vae"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help="checkpoints, run folders or zoo names [default: the data set's shipped model]")
    ap.add_argument("--dataset", choices=sorted(TITLE), default="tang")
    ap.add_argument("--lines", type=int, default=2000, help="random test lines to score (0: all)")
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("-k", type=int, default=10, help="importance samples for the NLL bound")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lm-nll", type=float, default=None, help="a plain LSTM LM's test NLL on the same lines, for the NLL target")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = ap.parse_args(argv)
    run = Run(__file__, argv)
    tang = args.dataset == "tang"
    test = datasets.load(args.dataset, "test")
    rows = [score(spec, test, args.lines, args.pairs, args.k, args.seed) for spec in args.models or [DEFAULT[args.dataset]]]
    meta = run.meta()
    kinds = " (5-5, 7-7, 5-7)" if tang else ""
    n = rows[0]["lines"]
    scored = f"all {n:,} lines scored" if n == len(test) else f"{n:,} random lines scored (seed {args.seed})"
    lines = [f"# {TITLE[args.dataset]} as gk-interp uses them (bench/poems.py)", "", *meta_lines(meta), "",
             f"Test split (poems never trained on): {scored}; NLL is the IWAE "
             f"bound with k = {args.k}, nats per line. Reconstruction: greedy decoding of the posterior mean. Paths: "
             f"{args.pairs} random pairs of test lines{kinds}, {STEPS} lines each (`gk-interp A B --steps {STEPS}`).", ""]
    if tang:
        lines += ["| model | settings | NLL | −ELBO | KL | exact lines, 5 / 7 chars | token accuracy, 5 / 7 | ends = A and B | "
                  "well formed | distinct in-between |", "|---|---|---:|---:|---:|---|---|---:|---:|---:|"]
    else:
        lines += ["| model | settings | NLL | −ELBO | KL | exact lines | token accuracy | ends = A and B | "
                  "well formed | distinct in-between |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items())
        recon = (f"{pct(r['exact_5'])} / {pct(r['exact_7'])} | {pct(r['tokens_5'])} / {pct(r['tokens_7'])}" if tang
                 else f"{pct(r['exact_lines'])} | {pct(r['token_accuracy'])}")
        lines.append(f"| {r['model']} | {settings} | {r['nll_nats']:.2f} | {r['nelbo_nats']:.2f} | {r['kl_nats']:.2f} | "
                     f"{recon} | {pct(r['ends_right'])} | {pct(r['well_formed'])} | {r['distinct_between']:.2f} |")
    lines += ["", "## Targets (issue 15)", ""]
    for r in rows:
        if tang:
            ok = all(v is not None and v >= TARGET_EXACT for v in (r["exact_5"], r["exact_7"]))
            checks = [f"exact lines >= {TARGET_EXACT:.0%} for 5 and for 7 characters: {'met' if ok else 'not met'}"]
        else:
            checks = [f"token accuracy >= {TARGET_TOKENS:.0%}: {'met' if r['token_accuracy'] >= TARGET_TOKENS else 'not met'}"]
        checks += [f"well formed >= {TARGET_FORMED:.0%}: {'met' if r['well_formed'] >= TARGET_FORMED else 'not met'}",
                   f">= {TARGET_MOVES:g} distinct in-between lines: {'met' if r['distinct_between'] >= TARGET_MOVES else 'not met'}"]
        if args.lm_nll is not None:
            ok = r["nll_nats"] <= args.lm_nll + NLL_MARGIN
            checks.append(f"NLL <= LM {args.lm_nll:.2f} + {NLL_MARGIN:g}: {'met' if ok else 'not met'}")
        lines.append(f"- {r['model']}: " + "; ".join(checks))
    lines += ["", "## Example paths", ""]
    for r in rows:
        lines += [f"{r['model']}:", "", *[f"    {' → '.join(p)}" for p in r["examples"]], ""]
    text = "\n".join(lines)
    write_report(args.out, "poems" if tang else "sonnets", text, {"meta": meta, "rows": rows}, log)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
