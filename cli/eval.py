"""gk-eval: a model's negative log-likelihood on a data set."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from cli.common import Verbose, Version, adapted, entry, guarded, list_option, load_model, make_app, model_argument, read_data, \
    seed_option

PROG = "gk-eval"
app = make_app()


@app.command()
@guarded(PROG)
def main(
    model: Annotated[str, model_argument()],
    sources: Annotated[Optional[List[str]], typer.Argument(help="Data: PNG/NPZ files, folders or - (stdin).", metavar="DATA", show_default=False)] = None,
    dataset: Annotated[Optional[str], typer.Option("--dataset", metavar="NAME", help="A named data set (e.g. pokemon).")] = None,
    split: Annotated[Optional[str], typer.Option("--split", metavar="NAME", help="train, test, val, fit or all [default: test with --dataset, else all].", show_default=False)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Images per batch.")] = 64,
    k: Annotated[Optional[int], typer.Option("-k", "--samples", metavar="K", help="VAEs: importance samples per image or sentence for the log-likelihood (the IWAE bound) [default: 1000 for images, 10 for sentences]. Masked models: masking rates per image for the ELBO bound [default: 32].", show_default=False)] = None,
    seed: Annotated[int, seed_option("VAEs: seed of the importance samples and of the binarization of grey digits.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a line.")] = False,
    verbose: Verbose = False,
    version: Version = None,
    list_models: Annotated[Optional[bool], list_option("Evaluates")] = None,
) -> None:
    """Print MODEL's negative log-likelihood on DATA: bits per pixel and nats per image.

    Pixel models give it exactly; the masked model an upper bound (the ELBO over -k masking
    rates per image, with its Monte-Carlo standard error). VAEs give the importance-sampled estimate with -k samples
    (the IWAE bound, a lower bound on the log-likelihood that tightens as k grows), the
    negative ELBO, the KL term, the KL of each code dimension and the number of active units;
    grey digits are scored on one fixed binarization (--seed).

    Images go onto the model's size and palette first (as its training crops were made;
    nearest palette colour), said once on stderr.

    Examples:

    \b
      gk-eval pixelcnn --dataset pokemon --split test
      gk-eval checkpoints/mnist-vae.keras --dataset mnist -k 5000 --json
    """
    from genkit.errors import GenkitError
    from genkit.models.capabilities import Evaluates
    from genkit.progress import bar

    if k is not None and k < 1:
        raise GenkitError("-k must be at least 1")
    if batch_size < 1:
        raise GenkitError("--batch-size must be at least 1")
    net = load_model(model, Evaluates, command=PROG)
    split = split or ("test" if dataset else None)
    stream = adapted(net, read_data(sources, dataset, split, family=net.family, prog=PROG), PROG)
    with bar(len(stream), "evaluating") as advance:
        result = net.evaluate_stream(stream, batch_size=batch_size, k=k, seed=seed, progress=advance)
    result["data"] = f"{dataset}:{split}" if dataset else ", ".join(sources or ["-"]) + (f":{split}" if split else "")
    print(result.to_json() if as_json else result.line())

run = entry(app, PROG)

if __name__ == "__main__":
    run()
