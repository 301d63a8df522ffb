"""stderr belongs to the user: native libraries' start-up noise kept off it.

TensorFlow's C++ runtime writes to file descriptor 2 as it loads ("Could not find cuda drivers
on your machine, GPU will not be used.", absl's "All log messages before
absl::InitializeLog() ..."), whatever TF_CPP_MIN_LOG_LEVEL says. :func:`quiet_native` points
descriptor 2 at /dev/null and gives Python's ``sys.stderr`` (our messages, progress bars,
warnings, tracebacks) a duplicate of the real one, so only what genkit says reaches the user.
"""

from __future__ import annotations

import io
import os
import sys


def quiet_native() -> bool:
    """Send native writes to fd 2 to /dev/null, keeping ``sys.stderr`` on the real stderr.
    Returns False (and changes nothing) where stderr has no file descriptor."""
    try:
        sys.stderr.flush()
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if fd != 2:
        return False
    real = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    os.set_inheritable(real, False)
    sys.stderr = io.TextIOWrapper(io.FileIO(real, "w", closefd=True), encoding=sys.stderr.encoding or "utf-8",
                                  errors="backslashreplace", line_buffering=True, write_through=True)
    return True
