"""A local Dask cluster that scoring jobs reuse: start-up (imports, model loads) paid once.

``simwidgets cluster`` starts one (a worker of threads in its process, or worker processes: one
per GPU when several are used, one per core with ``--processes``), loads the models given with
``--preload`` on every worker, prints its address and waits;
``simwidgets score ... --scheduler ADDRESS`` then runs on it. Each worker keeps the models it
loaded (and their embedding caches) between jobs, so the second job neither imports nor loads.

>>> cluster, client = start_cluster(workers=2, preload=["glove-50d"])   # doctest: +SKIP
>>> client.scheduler.address                                            # doctest: +SKIP
'tcp://127.0.0.1:8786'
"""

from __future__ import annotations

import os

from ..errors import InputError
from .gpus import on_gpu


def _load_on_worker(specs: list[str], options: dict) -> list[str]:
    from simwidgets.models import load_model
    from simwidgets.models.specs import device_options

    return [load_model(spec, **device_options(spec, options.get("device"))).name for spec in specs]


def loaded_models() -> list[str]:
    """The model families loaded in this process (run on workers: ``client.run(loaded_models)``)."""
    from simwidgets.models.loading import loaded_families

    return loaded_families()


#: Partitions one GPU worker scores at once: while one is on the card, others are read,
#: deduplicated, looked up and written (Arrow, numpy and the card release the GIL).
GPU_THREADS = 4


def uses_processes(device: str | None, processes: bool | None, n_gpus: int = 1) -> bool:
    """Whether a local cluster runs its workers as processes: asked for, or needed (one
    process per card when several GPUs are used; a process can use one as ``cuda:0``)."""
    gpu = on_gpu(device)
    if processes is None:
        return gpu and n_gpus > 1
    if not processes and gpu and n_gpus > 1:
        raise InputError(
            f"{n_gpus} GPUs need one worker process each: leave processes unset (or True), or use one GPU (workers=1)"
        )
    return bool(processes)


def local_cluster(
    *,
    device: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    processes: bool | None = None,
    port: int = 0,
    host: str | None = None,
    reachable: bool = False,
):
    """A local Dask cluster for scoring jobs (``reachable``: over TCP, for other processes' jobs).

    By default its one worker runs in this process, with ``threads`` threads (CPU: one per
    core, or ``workers``; GPU: :data:`GPU_THREADS`): nothing starts, models already loaded
    here are used, and every thread shares one embedding cache, so a text repeated across
    partitions is embedded once per job. Models take turns (see
    :meth:`~simwidgets.models.Embedder.compute_lock`); reading, deduplicating, cache hits,
    scoring and writing run in parallel. ``processes=True`` gives ``workers`` processes of
    one thread each (for a model whose own code holds Python's GIL, on many cores); several
    GPUs always get one process per card.
    """
    from distributed import LocalCluster

    cores = os.cpu_count() or 1
    # the scheduler and the dashboard listen on this machine only unless a host is given
    # (Dask's own default host is 127.0.0.1 too; a worker in this process needs none)
    dashboard = f"{host or '127.0.0.1'}:0"
    common = {"dashboard_address": dashboard, "silence_logs": 50, "scheduler_port": port}
    common["worker_dashboard_address"] = dashboard
    if host:
        common["host"] = host
    if reachable:
        common["protocol"] = "tcp://"  # a worker in this process is otherwise reached in-process only
    if on_gpu(device):
        from .gpus import chosen_gpus, gpu_cluster

        gpus = chosen_gpus(workers, required=True)
        per_gpu = int(threads or GPU_THREADS)
        if uses_processes(device, processes, len(gpus)):
            return gpu_cluster(gpus=gpus, threads_per_worker=per_gpu, scheduler_port=port)
        return LocalCluster(n_workers=1, threads_per_worker=per_gpu, processes=False, memory_limit=0, **common)
    if uses_processes(device, processes):
        return LocalCluster(n_workers=workers or cores, threads_per_worker=int(threads or 1), processes=True, **common)
    # memory_limit=0: a worker in this process must not pause because the process (a notebook
    # holding its own data) is large; tasks keep nothing in worker memory, so there is nothing to spill
    return LocalCluster(
        n_workers=1, threads_per_worker=int(threads or workers or cores), processes=False, memory_limit=0, **common
    )


def dashboard_link(cluster) -> str | None:
    """The address a local cluster's dashboard really listens on (Dask's own link names the
    machine's host name, which a dashboard bound to 127.0.0.1 does not answer on)."""
    try:
        server = cluster.scheduler.http_server
        host, port = next(iter(server._sockets.values())).getsockname()[:2]
    except (AttributeError, StopIteration, OSError):
        return None
    return f"http://{host}:{port}/status"


def check_port_free(host: str, port: int) -> None:
    """Refuse at once, in one line, a scheduler port that something else listens on."""
    import errno
    import socket

    if not port:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise InputError(
                f"port {port} on {host} is in use (another simwidgets cluster, or another program): stop it, "
                "or choose another port with --port (0: any free port)"
            ) from None


def start_cluster(
    *,
    device: str | None = None,
    workers: int | None = None,
    port: int = 8786,
    preload=(),
    host: str = "127.0.0.1",
    threads: int | None = None,
    processes: bool | None = None,
):
    """Start the cluster and return ``(cluster, client)``; models in ``preload`` are loaded on every worker.

    Workers are threads of this process by default (see :func:`local_cluster`); jobs reach
    them through the scheduler's address.
    """
    from distributed import Client

    from ..models.specs import check_spec, device_options

    specs = list(preload)
    options = {"device": device} if device else {}
    check_port_free(host, port)
    for spec in specs:
        check_spec(spec, **device_options(spec, device))  # a bad spec fails here, before any worker starts
    cluster = local_cluster(
        device=device, workers=workers, threads=threads, processes=processes, port=port, host=host, reachable=True
    )
    client = Client(cluster)
    if specs:
        client.run(_load_on_worker, specs, options)
    return cluster, client
