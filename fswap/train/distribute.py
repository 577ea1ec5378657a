"""tf.distribute for the train stage: build the strategy, shard the input, know who the chief is.

The networks, optimisers, loss-weight variables and the compiled step are created inside
`Distribution.scope()`; `TrainStep(strategy=…)` then runs each iteration with `strategy.run` on every
replica's shard and sums the per-replica losses, which it scales by 1/replicas so that they (and the
summed gradients) equal the global-batch mean. Only the chief (worker 0) writes checkpoints, previews,
history and the export; other workers log into a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import attrs

from fswap.cluster import cluster_place
from fswap.errors import ConfigError, TrainingError
from fswap.train.distribute_config import DistributeConfig

log = logging.getLogger("fswap.train")

# errors a collective raises when a peer died, timed out or the cluster aborted the step
_PEER_ERRORS = ("DeadlineExceededError", "UnavailableError", "CancelledError", "AbortedError",
                "InternalError", "UnknownError")
_TELLING = re.compile(r"time|unavailable|deadline|connect|peer|abort", re.IGNORECASE)


@attrs.frozen(eq=False, kw_only=True)
class Distribution:
    """A started strategy and this process's place in it."""

    strategy: Any  # tf.distribute.Strategy
    kind: str
    replicas: int
    worker_index: int = 0
    worker_count: int = 1
    workers: tuple[str, ...] = ()
    timeout_seconds: float = 0.0

    @property
    def is_chief(self) -> bool:
        return self.worker_index == 0

    def scope(self) -> Any:
        return self.strategy.scope()

    def describe(self) -> dict[str, Any]:
        return {"strategy": self.kind, "replicas": self.replicas, "workers": self.worker_count,
                "worker_index": self.worker_index}

    def per_replica_batch(self, batch_size: int, where: str) -> int:
        """Faces per side each replica gets; the global batch must split evenly."""
        if batch_size % self.replicas:
            raise ConfigError(
                f"{where}: batch_size = {batch_size} (the global batch) does not split over {self.replicas} "
                f"replicas; use a multiple of {self.replicas}"
            )
        return batch_size // self.replicas

    def batches(self, maker: Any, start: int) -> Any:
        """The distributed batch stream from iteration `start`: each worker builds only the shards of
        its own replicas (replica r gets samples r·n … r·n+n−1 of every global batch)."""
        from fswap.data.pipeline import make_shard_dataset

        per_replica = maker.batch_size // self.replicas

        def dataset_fn(ctx: Any) -> Any:
            local = self.replicas // ctx.num_input_pipelines
            first = ctx.input_pipeline_id * local
            return make_shard_dataset(maker, start, per_replica, range(first, first + local))

        return self.strategy.distribute_datasets_from_function(dataset_fn)

    def worker_name(self, index: int) -> str:
        address = f" ({self.workers[index]})" if 0 <= index < len(self.workers) else ""
        return f"worker {index}{address}"

    def failure(self, exc: BaseException, iteration: int, checkpoints: Path) -> TrainingError | None:
        """A clear TrainingError for a collective that failed because a peer died or timed out (None when
        `exc` is something else)."""
        if self.worker_count < 2 or type(exc).__name__ not in _PEER_ERRORS:
            return None
        text = str(exc)
        tasks = sorted({int(t) for t in re.findall(r"task[:_ ](\d+)", text)} - {self.worker_index})
        who = (", ".join(self.worker_name(t) for t in tasks) if tasks
               else f"another worker than {self.worker_name(self.worker_index)}")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        telling = [line for line in lines if _TELLING.search(line)]
        first = (telling or lines or [type(exc).__name__])[0][:200]
        return TrainingError(
            f"[train.distribute] multi_worker training stopped after iteration {iteration}: {who} died or "
            f"did not answer within timeout_seconds = {self.timeout_seconds:g} "
            f"({type(exc).__name__}: {first}). "
            f"The last checkpoint is in {checkpoints}; restart every worker with the same command to resume"
        )


def configure_logical_cpus(count: int) -> None:
    """Split the first CPU into `count` logical devices; must run before TensorFlow initialises them."""
    import tensorflow as tf

    if count < 1:
        return
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError as exc:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise TrainingError(
                f"[train.distribute] logical_cpus = {count}: TensorFlow already started in this process with "
                f"{len(tf.config.list_logical_devices('CPU'))} CPU device(s); run the train stage in a fresh "
                "process"
            ) from exc


def _multi_worker_resolver(config: DistributeConfig, where: str) -> tuple[Any, tuple[str, ...], int]:
    """(cluster resolver, worker addresses in index order, this process's worker index)."""
    import tensorflow as tf

    place = cluster_place(config.workers, where)
    if place.from_tf_config:
        return tf.distribute.cluster_resolver.TFConfigClusterResolver(), place.addresses, place.index
    spec = tf.train.ClusterSpec({"worker": list(place.addresses)})
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        spec, task_type="worker", task_id=place.index, rpc_layer="grpc")
    return resolver, place.addresses, place.index


def start(config: DistributeConfig, where: str) -> Distribution | None:
    """Create the configured strategy (None for strategy = "none"). Call it before any other TensorFlow
    work in the process: logical CPUs and multi-worker collectives can only be set up at start-up."""
    if not config.enabled:
        return None
    import tensorflow as tf

    configure_logical_cpus(config.logical_cpus)
    if config.strategy == "mirrored":
        devices = list(config.devices) or None
        if devices is None and config.logical_cpus and not tf.config.list_logical_devices("GPU"):
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        try:
            strategy = tf.distribute.MirroredStrategy(devices=devices)
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(f"{where} [train.distribute] devices = {list(config.devices)}: {exc}") from exc
        log.info("mirrored strategy over %s", ", ".join(strategy.extended.worker_devices))
        return Distribution(strategy=strategy, kind="mirrored", replicas=strategy.num_replicas_in_sync)
    resolver, workers, index = _multi_worker_resolver(config, where)
    impl = tf.distribute.experimental.CommunicationImplementation
    implementation = {"auto": impl.AUTO, "ring": impl.RING, "nccl": impl.NCCL}[config.communication]
    options = tf.distribute.experimental.CommunicationOptions(
        timeout_seconds=config.timeout_seconds, implementation=implementation)
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(
            cluster_resolver=resolver, communication_options=options)
    except RuntimeError as exc:
        raise TrainingError(
            f"{where} [train.distribute]: the multi_worker strategy must be created before TensorFlow runs "
            f"anything in this process ({exc}); start the train stage in a fresh process"
        ) from exc
    log.info("multi_worker strategy: worker %d of %d, %d replicas", index, len(workers),
             strategy.num_replicas_in_sync)
    return Distribution(strategy=strategy, kind="multi_worker", replicas=strategy.num_replicas_in_sync,
                        worker_index=index, worker_count=len(workers), workers=workers,
                        timeout_seconds=config.timeout_seconds)


def scratch_folder(dist: Distribution | None) -> Path | None:
    """A temporary folder for a non-chief worker's logs/previews (the chief and one-process runs: None)."""
    if dist is None or dist.is_chief:
        return None
    return Path(tempfile.mkdtemp(prefix=f"fswap-worker{dist.worker_index}-"))


def remove_scratch(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
