"""tf.distribute for the training loop: which strategy, who writes, and how the workers agree.

**Strategies** (:func:`pick`): ``default`` (one device), ``mirrored`` (MirroredStrategy over the
visible GPUs, or over logical CPUs where there are none), ``multi-worker``
(MultiWorkerMirroredStrategy, one process per machine, configured by the standard ``TF_CONFIG``
variable) and ``auto`` (mirrored when more than one GPU is visible, else default). The global
batch is split across replicas, Keras scales the loss once, and the input pipeline is sharded by
data (each worker keeps its part of every global batch). Every random draw of the input is a
stateless function of (seed, epoch, example), so neither the number of replicas nor a resume
changes it.

**Who writes** (:func:`is_chief`): only the chief (worker 0, or the task of type ``chief``) writes
the run folder, logs and stdout. Keras 3 writes a ``.keras`` file from each variable's local
value, with no collective op, so the other workers write nothing at all: no throwaway folder is
needed. They *read* the run folder to resume, so with several machines it must be shared.

The run folder itself (its layout, the atomic per-epoch commit that lets a run survive a kill)
is :mod:`genkit.runs`; SIGINT and SIGTERM are :mod:`genkit.signals`; several workers on one
machine are started by ``scripts/launch_workers.py``.

Keras 3 (3.15) cannot ``fit`` under MultiWorkerMirroredStrategy
(https://github.com/keras-team/keras/issues/20585): it all-reduces the first input batch and
reduces scalar logs along an axis they do not have; and under any strategy with several replicas
it averages the first batch over them to learn its shapes, which fails when a batch does not
split evenly. :func:`pick` patches those places (``_patch_keras``).
"""

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
        parse_tf_config(os.environ.get("TF_CONFIG"))
        _patch_keras()
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except (RuntimeError, ValueError, tf.errors.OpError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise GenkitError(f"cannot start the multi-worker strategy ({first})") from None
    gpus = tf.config.list_physical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        if len(gpus) > 1:
            devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        else:  # no GPUs to mirror over: split the CPU into replicas (tests, or a look at the mechanics)
            raw = os.environ.get("GENKIT_CPU_REPLICAS", "2")
            if not raw.isdigit() or int(raw) < 1:
                raise GenkitError(f"GENKIT_CPU_REPLICAS must be a positive integer, got {raw!r}")
            devices = [d.name for d in logical_cpus(int(raw))]
        if len(devices) < 2:
            raise GenkitError("--strategy mirrored needs at least two devices (GPUs, or logical CPUs set up "
                              f"before TensorFlow starts); this process has {len(devices)}")
        _patch_keras()
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.get_strategy()


def parse_tf_config(raw: str | None) -> tuple[dict, str, int]:
    """TF_CONFIG checked for what MultiWorkerMirroredStrategy needs: (cluster, task type, task index)."""
    if not raw:
        raise GenkitError("--strategy multi-worker needs TF_CONFIG (see the README)")
    try:
        cfg = json.loads(raw)
    except ValueError as e:
        raise GenkitError(f"TF_CONFIG is not JSON ({e})") from None
    cluster = cfg.get("cluster") if isinstance(cfg, dict) else None
    task = cfg.get("task") if isinstance(cfg, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise GenkitError('TF_CONFIG needs "cluster" and "task" objects, e.g. {"cluster": {"worker": '
                          '["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}')
    for role, addresses in cluster.items():
        if role not in ("chief", "worker"):
            raise GenkitError(f"TF_CONFIG cluster has {role!r} tasks; multi-worker training takes only chief and worker")
        if not isinstance(addresses, list) or not addresses or not all(_is_address(a) for a in addresses):
            raise GenkitError(f"TF_CONFIG cluster.{role} must be a non-empty list of host:port addresses")
    if "worker" not in cluster:
        raise GenkitError("TF_CONFIG cluster has no worker list")
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster:
        raise GenkitError(f"TF_CONFIG task.type must be one of {', '.join(cluster)}, got {kind!r}")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(cluster[kind]):
        raise GenkitError(f"TF_CONFIG task.index {index!r} is out of range: cluster.{kind} has "
                          f"{len(cluster[kind])} address{'es' if len(cluster[kind]) != 1 else ''}")
    return cluster, kind, index


def _is_address(text) -> bool:
    host, _, port = str(text).rpartition(":")
    return isinstance(text, str) and bool(host) and port.isdigit() and 0 < int(port) < 65536


def logical_cpus(n: int):
    """Split the CPU into ``n`` logical devices; possible only before TensorFlow has started."""
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:  # already initialised: use what there is
        pass
    return tf.config.list_logical_devices("CPU")


def is_multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy) -> bool:
    """Only the chief writes checkpoints, logs and stdout."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0 and
                                             "chief" not in resolver.cluster_spec().as_dict())


def gather(strategy, values: list[int]) -> list[list[int]]:
    """Each worker's ``values``, in worker order (a barrier too); just ``[values]`` in one process."""
    if not is_multi_worker(strategy):
        return [list(values)]
    import tensorflow as tf

    local = tf.constant([list(values)], tf.int64)

    @tf.function
    def all_of():
        return strategy.gather(strategy.run(lambda: tf.identity(local)), axis=0)

    return all_of().numpy().tolist()


def finish(strategy) -> None:
    """Multi-worker: a last barrier (the chief has written its last epoch), then TensorFlow's peer
    health checks stopped on every worker before any exits, so that none probes a peer that has
    gone and takes it for a failure."""
    if not is_multi_worker(strategy):
        return
    gather(strategy, [0])
    stop = getattr(strategy.extended, "_stop_check_health_thread", None)
    if stop is not None:
        stop()
    gather(strategy, [0])


def lost_a_worker(strategy, error: Exception) -> bool:
    """Whether ``error`` is a multi-worker collective op aborted because a peer stopped (TensorFlow's
    health check notices within about a minute)."""
    import tensorflow as tf

    return is_multi_worker(strategy) and isinstance(error, (tf.errors.UnavailableError, tf.errors.AbortedError))


def agree(strategy, what: str, value: int, problem: Exception | None = None) -> None:
    """Check that every worker starts alike: re-raise this worker's ``problem``, and refuse to go
    on if another worker had one or sees a different ``value`` (e.g. the epoch to resume from).
    Every worker takes part, so that none is left waiting for the others."""
    votes = gather(strategy, [int(value), int(problem is not None)])
    if problem is not None:
        raise problem
    failed = [i for i, (_, p) in enumerate(votes) if p]
    if failed:
        raise GenkitError(f"worker {failed[0]} could not start (see its message)")
    if len({v for v, _ in votes}) > 1:
        raise GenkitError(f"the workers disagree on {what} ({', '.join(str(v) for v, _ in votes)}): every worker "
                          "needs the chief's run folder (-o DIR on a shared file system)")


# -- Keras 3 under several replicas ----------------------------------------------------------
_PATCHED = False


def _patch_keras() -> None:
    """Two fixes to Keras 3's TensorFlow trainer. Under any strategy with several replicas, build
    from this process's first replica's batch: Keras averages the first batch over the replicas
    only to learn its shapes, which fails when the batch does not split evenly (5 validation
    images on 2 replicas) and, under several workers, on a tuple it cannot reduce. Under
    MultiWorkerMirroredStrategy, also average scalar logs over the workers without an axis
    (Keras asks for axis 0)."""
    global _PATCHED
    if _PATCHED:
        return
    try:
        import tensorflow as tf
        from keras.src import tree
        from keras.src.backend.tensorflow import trainer
    except ImportError:  # another Keras layout: leave it as it is
        return
    original_build = getattr(trainer.TensorFlowTrainer, "_maybe_symbolic_build", None)
    original_reduce = getattr(trainer, "reduce_per_replica", None)
    if original_build is None or original_reduce is None:
        return

    def local(x):
        return x.values[0] if isinstance(x, tf.distribute.DistributedValues) else x

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if strategy is None or strategy.num_replicas_in_sync < 2:
            return original_build(self, iterator=iterator, data_batch=data_batch)
        if iterator is not None:
            for _, _, it in iterator:
                data_batch = tree.map_structure(local, next(it))
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        if not (is_multi_worker(strategy) and reduction in ("auto", "mean")):
            return original_reduce(values, strategy, reduction)
        return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=0 if local(v).shape.rank else None), values)

    trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    trainer.reduce_per_replica = reduce_per_replica
    _PATCHED = True
