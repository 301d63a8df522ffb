"""Choosing the tf.distribute strategy that every model is built and trained under."""

from __future__ import annotations

import json
import os

from .errors import GenkitError

STRATEGIES = ("auto", "default", "mirrored", "multi-worker")


def pick(name: str = "auto"):
    """auto: MirroredStrategy when more than one GPU is visible, else the default strategy;
    multi-worker: MultiWorkerMirroredStrategy configured by TF_CONFIG."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise GenkitError(f"unknown strategy {name!r} (choose from {', '.join(STRATEGIES)})")
    if name == "multi-worker":
        raw = os.environ.get("TF_CONFIG")
        if not raw:
            raise GenkitError("--strategy multi-worker needs TF_CONFIG (see the README)")
        try:
            cfg = json.loads(raw)
            cfg["cluster"]["worker"], cfg["task"]["index"]  # noqa: B018 - shape check
        except (ValueError, KeyError, TypeError):
            raise GenkitError("TF_CONFIG is not valid JSON with cluster.worker and task.index") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        if len(gpus) > 1:
            devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        else:  # no GPUs to mirror over: split the CPU into replicas (tests, or a look at the mechanics)
            devices = [d.name for d in logical_cpus(int(os.environ.get("GENKIT_CPU_REPLICAS", "2")))]
        if len(devices) < 2:
            raise GenkitError("--strategy mirrored needs at least two devices (GPUs, or logical CPUs set up before TensorFlow starts)")
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.get_strategy()


def logical_cpus(n: int):
    """Split the CPU into ``n`` logical devices; possible only before TensorFlow has started."""
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:  # already initialised: use what there is
        pass
    return tf.config.list_logical_devices("CPU")


def is_chief(strategy) -> bool:
    """Only the chief writes checkpoints, logs and stdout."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0)
