"""gk-eval: a model's negative log-likelihood on a data set."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cli.common import entry, guarded, load_model, make_app, read_data

PROG = "gk-eval"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    model: Annotated[str, typer.Argument(help="A .keras file, run folder or zoo name.", metavar="MODEL", show_default=False)],
    sources: Annotated[Optional[List[str]], typer.Argument(help="Data: PNG/NPZ files, folders or - (stdin).", metavar="DATA", show_default=False)] = None,
    dataset: Annotated[Optional[str], typer.Option("--dataset", metavar="NAME", help="A named data set (e.g. pokemon).")] = None,
    split: Annotated[Optional[str], typer.Option("--split", metavar="NAME", help="train, test, val, fit or all [default: test with --dataset, else all].", show_default=False)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Images per batch.")] = 64,
    k: Annotated[Optional[int], typer.Option("-k", "--samples", metavar="K", help="VAEs: importance samples per image or sentence for the log-likelihood (the IWAE bound) [default: 1000 for images, 10 for sentences].", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", metavar="INT", help="VAEs: seed of the importance samples and of the binarization of grey digits.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a line.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show a traceback for unexpected errors.")] = False,
) -> None:
    """Print MODEL's negative log-likelihood on DATA: bits per pixel and nats per image.

    Pixel models give it exactly. VAEs give the importance-sampled estimate with -k samples
    (the IWAE bound, a lower bound on the log-likelihood that tightens as k grows), the
    negative ELBO, the KL term, the KL of each code dimension and the number of active units;
    grey digits are scored on one fixed binarization (--seed).

    Examples: gk-eval pixelcnn --dataset pokemon --split test;
    gk-eval checkpoints/mnist-vae.keras --dataset mnist -k 5000 --json
    """
    import json

    from genkit.errors import GenkitError
    from genkit.progress import bar

    if k is not None and k < 1:
        raise GenkitError("-k must be at least 1")
    if batch_size < 1:
        raise GenkitError("--batch-size must be at least 1")
    net = load_model(model)
    split = split or ("test" if dataset else None)
    stream = read_data(sources, dataset, split, text=getattr(net, "task", None) == "text")
    if getattr(net, "task", None) in ("latent", "text"):
        k = net.default_k if k is None else k
        with bar(len(stream), f"IWAE k={k}") as advance:
            result = net.evaluate_stream(stream, batch_size=batch_size, k=k, seed=seed, progress=advance)
    else:
        result = net.evaluate_stream(stream, batch_size=batch_size)
    result["data"] = f"{dataset}:{split}" if dataset else ", ".join(sources or ["-"]) + (f":{split}" if split else "")
    if as_json:
        print(json.dumps(result, sort_keys=True))
    elif "ppl" in result:  # sentence models
        how = f"IWAE k={result['k']}" if result["latent"] else "exact"
        print(f"NLL {result['nll_nats']:.2f} nats/sentence ({how})  -ELBO {result['nelbo_nats']:.2f}  KL {result['kl_nats']:.2f}  "
              f"perplexity {result['ppl']:.1f}  {result['sentences']} sentences  {result['model']}  {result['data']}")
    elif "nll_nats" in result:
        print(f"NLL {result['nll_nats']:.2f} nats/image (IWAE k={result['k']})  -ELBO {result['nelbo_nats']:.2f}  "
              f"KL {result['kl_nats']:.2f}  active units {result['active_units']}/{result['latent']}  "
              f"{result['bits_per_pixel']:.4f} bits/px  {result['images']} images  {result['model']}  {result['data']}")
    elif "frechet" in result:  # GANs: no likelihood; realness in the judge's feature space (genkit.realness)
        print(f"Fréchet distance {result['frechet']:.3f} (judge features, {result['samples']} samples vs {result['images']} images)  "
              f"label entropy {result['label_entropy']:.3f}/{result['max_entropy']:.3f} nats  {result['model']}  {result['data']}")
    elif "accuracy" in result:  # classifiers
        print(f"accuracy {result['accuracy']:.4f}  cross-entropy {result['cross_entropy_nats']:.4f} nats/image  "
              f"{result['images']} images  {result['model']}  {result['data']}")
    elif "nats_per_image" in result:
        print(f"{result['bits_per_pixel']:.4f} bits/px  {result['nats_per_image']:.2f} nats/image  "
              f"{result['images']} images  {result['model']}  {result['data']}")
    else:
        print(f"reconstruction {result['rec_nats']:.2f} nats/image  {result['bits_per_pixel']:.4f} bits/px  "
              f"{result['images']} images  {result['model']} (no likelihood: not a probabilistic model)  {result['data']}")


run = entry(app, PROG)

if __name__ == "__main__":
    run()
