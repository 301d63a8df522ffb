"""SIGINT and SIGTERM during training: stop at the end of the step under way, after any epoch
being saved is on disk (:class:`Interrupts`), and say so in one line (:class:`Interrupted`)."""

from __future__ import annotations

import contextlib
import signal
import threading


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM; ``exit_code`` is 128 + the signal's number, ``message`` one line."""

    def __init__(self, signum: int, message: str = ""):
        super().__init__(message or signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum
        self.message = message or "interrupted"


class Interrupts:
    """``with Interrupts() as guard:`` the first SIGINT or SIGTERM asks training to stop: the Keras
    callback ``guard.callback()`` raises Interrupted at the end of the step (or epoch) under way,
    never inside TensorFlow's own code, where an exception can be swallowed (a ``__del__``), and
    never inside ``with guard.hold():`` (an epoch being saved), which finishes first. A second
    signal raises at once (unless held). Installed only in the main thread."""

    def __init__(self):
        self.signum: int | None = None
        self._held = 0
        self._pending: int | None = None
        self._old: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old = {}
        return False

    def _handler(self, signum, frame):
        if self.signum is None:
            self.signum = signum
        elif self._held:
            self._pending = signum
        else:
            raise Interrupted(signum)

    def check(self) -> None:
        """Raise Interrupted if a signal came (and no save is under way)."""
        if self.signum is not None and not self._held:
            raise Interrupted(self.signum)

    @contextlib.contextmanager
    def hold(self):
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held and self._pending is not None:
            signum, self._pending = self._pending, None
            raise Interrupted(signum)

    def callback(self):
        """A Keras callback that stops training (raises Interrupted) after a signal."""
        import keras

        guard = self

        class StopOnSignal(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                guard.check()

            def on_test_batch_end(self, batch, logs=None):
                guard.check()

            def on_epoch_end(self, epoch, logs=None):
                guard.check()

        return StopOnSignal()
