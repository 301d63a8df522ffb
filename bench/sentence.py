"""Benchmark: the sentence VAE against a plain LSTM language model on the Penn Treebank.

What it measures, on PTB's standard test set (3,761 sentences, 82,430 tokens with one ``<eos>``
per sentence; ``genkit.datasets.load("ptb", split="test")``), for two trained models:

* the **LSTM language model**: ``sentence-vae`` with ``latent=0`` (the decoder alone), from
  ``--lm`` (a run folder or .keras file; ``make bench-sentence`` trains runs/ptb-lstm-lm);
* the **sentence VAE**: ``--vae`` (the shipped checkpoints/ptb-sentence-vae.keras).

For each: test NLL in nats per sentence (exact for the LM; for the VAE the importance-sampled
IWAE bound with ``-k`` samples, Burda et al. 2016, which is at most the -ELBO), the -ELBO and its
KL term, perplexity per token (exp of total NLL over total tokens, ``<eos>`` counted, as in
Bowman et al.), the VAE's active units, weights, and training epochs and time from the run's
metrics.json (``--lm-metrics`` / ``--vae-metrics``; a run folder given as the model has its own).
The VAE's reconstruction of the test sentences (greedy decoding of the posterior mean, as
gk-interp decodes its ends): the exact-line rate and the token accuracy.

The same figures for the poem models (``--sonnets``, ``--tang``: the shipped checkpoints by
default; ``--no-poems`` leaves them out), on their own test splits (sonnets 4,690 lines; Tang
39,832, their 5- and 7-character lines also apart), with their NLL (IWAE, ``--poems-k``) and KL.

Published numbers are printed beside them as the issue quotes them (test NLL per sentence):
Bowman et al. 2016 (LSTM LM 100; VAE 99, KL 2), timbmg/Sentence-VAE (103.97, KL 7.27), Texar's VAE
(102.06). The target: a VAE with test NLL <= 101 and KL >= 3 (no posterior collapse).

    python bench/sentence.py --lm runs/ptb-lstm-lm --vae checkpoints/ptb-sentence-vae.keras \
        --vae-metrics runs/ptb-sentence-vae/metrics.json [-k 10] [--poems-k 10] [--out bench/results]

Results go to ``<out>/sentence.md`` and ``<out>/sentence.json`` (written atomically).
``--quick`` scores the first 200 test sentences of each set only, for debugging; nothing is
written unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/sentence.py` works without PYTHONPATH

from bench.common import Run, fmt_load, logger, out_folder, shown, training, verdict, write_report  # noqa: E402
from genkit import datasets, models  # noqa: E402

TARGET_NLL, TARGET_KL = 101.0, 3.0
#: (what, test NLL nats/sentence, KL, note), as issue #7 quotes them
PUBLISHED = [
    ("Bowman et al. 2016, LSTM LM", 100.0, None, "paper"),
    ("Bowman et al. 2016, VAE", 99.0, 2.0, "paper"),
    ("timbmg/Sentence-VAE", 103.97, 7.27, "PyTorch re-implementation"),
    ("Texar VAE (LSTM decoder)", 102.06, None, "Texar example"),
]


log = logger("sentence")


def score(name: str, spec: str, metrics: str | None, data, k: int, dataset: str = "ptb") -> dict:
    model = models.load(spec)
    if model.family != "sentence-vae":
        raise SystemExit(f"{spec}: not a sentence model")
    log(f"{name}: scoring {len(data)} test sentences ({'exact' if not model.latent else f'IWAE k={k}'}) ...")
    t0 = time.time()
    result = model.evaluate_stream(data, k=k)
    result.update(name=name, dataset=dataset, source=shown(models.resolve(spec)), params=int(model.count_params()),
                  eval_s=round(time.time() - t0, 1), settings={"latent": model.latent, **vars(model.config)},
                  training=training(metrics or (spec if Path(spec).is_dir() else None)))
    log(f"{name}: NLL {result['nll_nats']:.2f}, -ELBO {result['nelbo_nats']:.2f}, KL {result['kl_nats']:.2f}, "
        f"ppl {result['ppl']:.1f}{recon(result)} [{result['eval_s']:.0f}s]")
    return result


def recon(result: dict) -> str:
    if "exact_lines" not in result:
        return ""
    return f", exact lines {100 * result['exact_lines']:.1f}%, token accuracy {100 * result['token_accuracy']:.1f}%"


def pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def reconstruction_table(rows: list[dict]) -> list[str]:
    """Exact lines and token accuracy of each VAE (Tang: all lines, then 5 and 7 characters apart)."""
    lines = [
        "## Reconstruction: greedy decoding of the posterior mean",
        "",
        "Each test line is encoded (the posterior mean) and decoded greedily, as `gk-interp` decodes its ends. Exact "
        "lines: the fraction decoded exactly (a line holding `<unk>` never is); token accuracy: the fraction of the "
        "lines' tokens decoded at their position (`<eos>` not counted). NLL (IWAE bound) and KL in nats per line, "
        "over all the set's lines.",
        "",
        "| model | test lines | exact lines | token accuracy | test NLL | KL |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if not r["latent"]:
            continue
        name = f"{r['name']} (`{r['source']}`)"
        lines.append(f"| {name} | {r['sentences']:,} | {pct(r['exact_lines'])} | {pct(r['token_accuracy'])} | "
                     f"{r['nll_nats']:.2f} (k = {r['k']}) | {r['kl_nats']:.2f} |")
        for n, f in sorted(r.get("by_length", {}).items(), key=lambda kv: int(kv[0])):
            lines.append(f"| {r['name']}, {n}-character lines | {f['lines']:,} | {pct(f['exact_lines'])} | "
                         f"{pct(f['token_accuracy'])} | | |")
    return lines + [""]


def markdown(rows: list[dict], meta: dict) -> str:
    def train_cell(r):
        t = r["training"]
        if not t:
            return "see the model card"
        return f"{t['epochs']} epochs (best {t['best_epoch']}), {t['train_time_s'] / 60:.1f} min"

    lines = [
        "# Sentence VAE vs LSTM language model on the Penn Treebank",
        "",
        f"Test set: {meta['sentences']:,} sentences, {meta['tokens']:,} tokens (one `<eos>` each). NLL and −ELBO in nats per "
        "sentence; perplexity per token = exp(total NLL / tokens). The LM's NLL is exact; the VAE's is the IWAE bound "
        f"with k = {meta['k']} importance samples (an upper bound on −log p that tightens with k; the −ELBO is k = 1's).",
        "",
        "| model | test NLL | −ELBO | KL | perplexity | active units | exact lines | token accuracy | weights | training (this machine) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    ptb = [r for r in rows if r["dataset"] == "ptb"]
    for r in ptb:
        au = f"{r['active_units']}/{r['latent']}" if r["latent"] else "–"
        kl = f"{r['kl_nats']:.2f}" if r["latent"] else "–"
        carried = f"; {r['carried']}" if r.get("carried") else ""
        lines.append(f"| **{r['name']}** (`{r['source']}`{carried}) | **{r['nll_nats']:.2f}** | {r['nelbo_nats']:.2f} | {kl} | "
                     f"{r['ppl']:.1f} | {au} | {pct(r.get('exact_lines'))} | {pct(r.get('token_accuracy'))} | "
                     f"{r['params']:,} | {train_cell(r)} |")
    for what, nll, kl, note in PUBLISHED:
        lines.append(f"| {what} (published, {note}) | {nll:.2f} | | {'' if kl is None else f'{kl:.2f}'} | | | | | | |")
    vae = next(r for r in ptb if r["latent"])
    timing = ", ".join("{:.1f} min ({})".format(r["eval_s"] / 60, r["name"]) for r in rows if not r.get("carried"))
    met = vae["nll_nats"] <= TARGET_NLL and vae["kl_nats"] >= TARGET_KL
    lm = next((r for r in ptb if not r["latent"]), None)
    same_way = lm is not None and all(lm["settings"].get(key) == vae["settings"].get(key)
                                      for key in ("embed", "hidden", "dropout", "sampled", "vocab"))
    stretch = ([f"Stretch: below the plain LM trained the same way: {verdict(vae['nll_nats'] < lm['nll_nats'])} "
                f"(VAE {vae['nll_nats']:.2f}, LM {lm['nll_nats']:.2f})."] if same_way else
               ["Stretch: below the plain LM trained the same way: not measured (the LM's sizes or dropout differ "
                "from the VAE's)."] if lm is not None else [])
    lines += [
        "",
        f"Target: the VAE's test NLL ≤ {TARGET_NLL:g} with KL ≥ {TARGET_KL:g}: {verdict(met)} "
        f"(NLL {vae['nll_nats']:.2f}, KL {vae['kl_nats']:.2f}).",
        *(["", *stretch] if stretch else []),
        "",
        f"Measured {meta['date'][:10]} on {meta['cpu']} ({meta['cores']} cores, load average "
        f"{fmt_load(meta['load_average']['start'], 1, ', ')} when the run "
        f"began: the CPU was shared with other training jobs), TensorFlow {meta['tensorflow']}, by `{meta['command']}`; "
        f"scoring took {timing}.",
        "",
        *reconstruction_table(rows),
        "Settings: " + "; ".join(f"{r['name']}: {json.dumps(r['training'].get('run', {}).get('model', r['settings']), sort_keys=True)}"
                                 + (f", batch {r['training']['run']['batch_size']}, lr {r['training']['run']['lr']}"
                                    if r["training"] else "") for r in rows),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lm", default="runs/ptb-lstm-lm", help="the LSTM LM (sentence-vae, latent=0): run folder or .keras")
    ap.add_argument("--vae", default="ptb-sentence-vae", help="the sentence VAE: run folder, .keras or shipped name")
    ap.add_argument("--lm-metrics", help="the LM run's metrics.json [default: in --lm's run folder]")
    ap.add_argument("--vae-metrics", default="runs/ptb-sentence-vae/metrics.json", help="the VAE run's metrics.json")
    ap.add_argument("-k", type=int, default=10, help="importance samples per sentence for the VAE's NLL")
    ap.add_argument("--out", default=None, help="folder for sentence.md/.json [default: bench/results; none with --quick]")
    ap.add_argument("--sonnets", default="sonnet-sentence-vae", help="the sonnet VAE: run folder, .keras or shipped name")
    ap.add_argument("--tang", default="tang-sentence-vae", help="the Tang VAE: run folder, .keras or shipped name")
    ap.add_argument("--poems-k", type=int, default=10, help="importance samples per line for the poem models' NLL")
    ap.add_argument("--no-poems", action="store_true", help="PTB only: leave the poem models out")
    ap.add_argument("--earlier", metavar="JSON", help="an earlier sentence.json: where --lm's run is not here, its LM "
                    "row is shown as scored then (marked); where --vae-metrics is not here, the VAE's training as recorded then")
    ap.add_argument("--quick", action="store_true", help="the first 200 test sentences of each set only (debugging)")
    args = ap.parse_args(argv)
    run = Run(__file__, argv)

    def test_split(name: str):
        data = datasets.load(name, split="test")
        return data.select(slice(0, 200)) if args.quick else data

    data = test_split("ptb")
    earlier = json.loads(Path(args.earlier).read_text()) if args.earlier else None
    if earlier and not Path(args.lm).exists():  # the LM's run is gone: its row as measured then
        lm = dict(next(r for r in earlier["rows"] if r.get("dataset", "ptb") == "ptb" and not r["latent"]))
        lm.setdefault("dataset", "ptb")
        lm.setdefault("carried", f"scored {earlier['meta']['date'][:10]}, from {args.earlier}")  # carried twice: the first date
        log(f"{args.lm} is not here: the LM's row from {args.earlier} ({lm['carried']})")
    else:
        lm = score("LSTM language model", args.lm, args.lm_metrics, data, 1)
    vae_metrics = args.vae_metrics if Path(args.vae_metrics).exists() or not earlier else None
    rows = [lm, score("sentence VAE", args.vae, vae_metrics, data, args.k)]
    if earlier and not rows[1]["training"]:  # the run folder is gone: its training as recorded then
        rows[1]["training"] = next((r["training"] for r in earlier["rows"] if r["source"] == rows[1]["source"]), None)
    if not args.no_poems:
        rows += [score("sonnet VAE", args.sonnets, None, test_split("sonnets"), args.poems_k, "sonnets"),
                 score("Tang VAE", args.tang, None, test_split("tang"), args.poems_k, "tang")]
    meta = run.meta(k=args.k, poems_k=None if args.no_poems else args.poems_k, sentences=rows[0]["sentences"],
                    tokens=rows[0]["tokens"])
    text = markdown(rows, meta)
    print(text)
    out = out_folder(args.out, args.quick)
    if out is not None:
        write_report(out, "sentence", text, {"meta": meta, "rows": rows, "published": PUBLISHED}, log)


if __name__ == "__main__":
    main()
