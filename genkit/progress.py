"""Progress bars on stderr (rich), drawn only when stderr is a terminal, so pipes stay clean."""

from __future__ import annotations


def _progress(*columns):
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal), console


class bar:
    """``with bar(total, "reading") as advance: ... advance()``."""

    def __init__(self, total: int, description: str):
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

        self._progress, _ = _progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        self._task = self._progress.add_task(description, total=total)

    def __enter__(self):
        self._progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self._progress.__exit__(*exc)

    def __call__(self, n: int = 1, *_args) -> None:
        self._progress.advance(self._task, n if isinstance(n, int) else 1)


#: short names of report values on the bar
_SHORT = {"bits_per_pixel": "bits/px", "kl_weight": "kl weight"}


def batch_status(logs: dict | None, report=None) -> str:
    """The bar's text after a training batch: the loss, then the family's own figures
    (``report``: a model's :meth:`report`, Keras logs -> named values; bits/px for a pixel model,
    −ELBO, KL and perplexity for a sentence model, ...)."""
    logs = logs or {}
    if logs.get("loss") is None:
        return ""
    parts = [f"loss {float(logs['loss']):.4f}"]
    try:
        values = report(logs) if report else {}
    except (KeyError, TypeError, ValueError):  # a batch without the figures the report reads
        values = {}
    parts += [f"{_SHORT.get(k, k)} {v:.3f}" for k, v in values.items() if k != "loss"]
    return "  ".join(parts)


def keras_progress(epochs: int, steps: int | None, *, initial_epoch: int = 0, log=None, report=None):
    """A Keras callback: a rich bar per epoch with the loss and the family's figures
    (:func:`batch_status`); one line per epoch via ``log``."""
    import keras
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    class KerasProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.progress, self.console = _progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"),
            )
            self.progress.__enter__()
            self.task = None

        def on_epoch_begin(self, epoch, logs=None):
            self.task = self.progress.add_task(f"epoch {epoch + 1}/{epochs}", total=steps, status="")

        def on_train_batch_end(self, batch, logs=None):
            self.progress.update(self.task, advance=1, status=batch_status(logs, report))

        def on_epoch_end(self, epoch, logs=None):
            self.progress.remove_task(self.task)
            if log:
                log(epoch, logs or {})

        def on_train_end(self, logs=None):
            self.progress.__exit__(None, None, None)

    return KerasProgress()
