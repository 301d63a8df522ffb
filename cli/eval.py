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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a line.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show a traceback for unexpected errors.")] = False,
) -> None:
    """Print MODEL's negative log-likelihood on DATA: bits per pixel and nats per image.

    Example: gk-eval pixelcnn --dataset pokemon --split test
    """
    import json

    net = load_model(model)
    split = split or ("test" if dataset else None)
    stream = read_data(sources, dataset, split)
    result = net.evaluate_stream(stream, batch_size=batch_size)
    result["data"] = f"{dataset}:{split}" if dataset else ", ".join(sources or ["-"]) + (f":{split}" if split else "")
    if as_json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"{result['bits_per_pixel']:.4f} bits/px  {result['nats_per_image']:.2f} nats/image  "
              f"{result['images']} images  {result['model']}  {result['data']}")


run = entry(app, PROG)

if __name__ == "__main__":
    run()
