"""One Dask worker per GPU of this host, for scoring with transformers on every card.

With dask-cuda installed, :func:`gpu_cluster` uses its ``LocalCUDACluster``; without it, a
``SpecCluster`` of Nanny-managed workers, each started with ``CUDA_VISIBLE_DEVICES`` set to
its own card (what ``LocalCUDACluster`` does), so each worker sees exactly one GPU as
``cuda:0`` and loads its models there once.
"""

from __future__ import annotations

import os


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` entries (empty without CUDA)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip() and g.strip() != "-1"]
    try:
        import torch
    except ImportError:
        return []
    return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


def on_gpu(device: str | None) -> bool:
    """Whether a job's ``device`` names a GPU (``"cuda"``, ``"cuda:1"``)."""
    return bool(device and device.startswith("cuda"))


NO_GPU = "no GPU is visible (CUDA_VISIBLE_DEVICES / torch.cuda): score with --device cpu"


def chosen_gpus(limit: int | None = None, gpus: list[str] | None = None, *, required: bool = False) -> list[str]:
    """``gpus`` (default: the visible ones), the first ``limit`` of them; ``required``: none is an error."""
    gpus = list(gpus) if gpus is not None else visible_gpus()
    gpus = gpus[:limit] if limit else gpus
    if required and not gpus:
        raise RuntimeError(NO_GPU)
    return gpus


def worker_specs(gpus: list[str], threads_per_worker: int = 1) -> dict:
    """Worker specifications for ``distributed.SpecCluster``: one Nanny per GPU."""
    from distributed import Nanny

    return {
        f"gpu-{gpu}": {
            "cls": Nanny,
            "options": {
                "nthreads": threads_per_worker,
                "env": {"CUDA_VISIBLE_DEVICES": gpu},
                "resources": {"GPU": 1},
                "name": f"gpu-{gpu}",
                "host": "127.0.0.1",
                "dashboard_address": DASHBOARD,
            },
        }
        for gpu in gpus
    }


#: Dask's dashboard listens on this machine only, on a free port (like the scheduler).
DASHBOARD = "127.0.0.1:0"


def gpu_cluster(
    gpus: list[str] | None = None, n_workers: int | None = None, threads_per_worker: int = 1, scheduler_port: int = 0
):
    """A local Dask cluster with one worker per GPU (``gpus`` or all visible ones).

    ``n_workers`` caps the number of GPUs used. Raises ``RuntimeError`` when no GPU is visible.
    """
    gpus = chosen_gpus(n_workers, gpus, required=True)
    # Workers stay daemonic (Dask's default): the streaming encoder then tokenizes in
    # threads, so no worker has children of its own to outlive a cluster's shutdown.
    try:
        from dask_cuda import LocalCUDACluster
    except ImportError:
        from distributed import Scheduler, SpecCluster

        scheduler = {
            "cls": Scheduler,
            "options": {"dashboard_address": DASHBOARD, "host": "127.0.0.1", "port": scheduler_port},
        }
        return SpecCluster(workers=worker_specs(gpus, threads_per_worker), scheduler=scheduler, silence_logs=50)
    return LocalCUDACluster(
        CUDA_VISIBLE_DEVICES=",".join(gpus),
        scheduler_port=scheduler_port,
        threads_per_worker=threads_per_worker,
        dashboard_address=DASHBOARD,
        host="127.0.0.1",
        silence_logs=50,
    )
