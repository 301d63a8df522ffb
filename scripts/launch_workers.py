"""Several training workers on this machine (``make train-2workers``; a look at the mechanism):

    python scripts/launch_workers.py [--workers N] -- COMMAND [ARGS...]

runs COMMAND as N processes (2 by default), each with its ``TF_CONFIG`` naming worker i of a
cluster on free ports of 127.0.0.1, e.g. ``gk-train ... --strategy multi-worker``. Exits 0, or
with the first non-zero exit code (a worker killed by signal S: 128 + S, as a shell says); when
one worker fails, the others are stopped.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

USAGE = "usage: python scripts/launch_workers.py [--workers N] -- COMMAND [ARGS...]"


def free_ports(n: int) -> list[int]:
    """``n`` TCP ports on 127.0.0.1 that are free now (the OS picks them)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def launch_local(argv: list[str], workers: int = 2, grace_s: float = 10.0) -> int:
    """Run ``argv`` as ``workers`` processes on 127.0.0.1, each with its TF_CONFIG (free ports);
    returns 0, or the first non-zero exit code. When one fails, the others are stopped (SIGTERM,
    then SIGKILL after ``grace_s``: a worker blocked in a collective op cannot act on SIGTERM)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(workers)]}
    procs = []
    for index in range(workers):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        procs.append(subprocess.Popen(argv, env=env))
    code = 0
    try:
        while None in [p.poll() for p in procs]:  # every worker polled: any() would stop at the first running one
            failed = [_status(p.returncode) for p in procs if p.returncode not in (None, 0)]
            if failed and not code:
                code = failed[0]
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
                deadline = time.time() + grace_s
                while any(p.poll() is None for p in procs) and time.time() < deadline:
                    time.sleep(0.1)
                for p in procs:
                    if p.poll() is None:
                        p.kill()
            time.sleep(0.2)
    except KeyboardInterrupt:  # Ctrl-C reached every worker too: let the chief save, then go
        for p in procs:
            try:
                p.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                p.kill()
        return 130
    return code or next((_status(p.returncode) for p in procs if p.returncode), 0)


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N: 128 + N, as a shell says


def main(args: list[str] | None = None) -> int:
    """``[--workers N] -- COMMAND...``: COMMAND as N local workers."""
    args = sys.argv[1:] if args is None else args
    workers = 2
    if args[:1] == ["--workers"] and len(args) > 1 and args[1].isdigit():
        workers, args = int(args[1]), args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or workers < 1:
        print(USAGE, file=sys.stderr)
        return 2
    return launch_local(args, workers)


if __name__ == "__main__":
    raise SystemExit(main())
