"""A local Dask cluster that scoring jobs reuse: start-up (imports, model loads) paid once.

``simwidgets cluster`` starts one (CPU workers, or one worker per GPU with ``--device cuda``),
loads the models given with ``--preload`` on every worker, prints its address and waits;
``simwidgets score ... --scheduler ADDRESS`` then runs on it. Each worker keeps the models it
loaded (and their embedding caches) between jobs, so the second job neither imports nor loads.

>>> cluster, client = start_cluster(workers=2, preload=["glove-50d"])   # doctest: +SKIP
>>> client.scheduler.address                                            # doctest: +SKIP
'tcp://127.0.0.1:8786'
"""

from __future__ import annotations

import os


def _load_on_worker(specs: list[str], options: dict) -> list[str]:
    from simwidgets.models import load_model

    return [load_model(spec, **options).name for spec in specs]


def loaded_models() -> list[str]:
    """The model families loaded in this process (run on workers: ``client.run(loaded_models)``)."""
    from simwidgets.models.loading import _LOADED

    return sorted(str(key[0]) for key in _LOADED)


def start_cluster(
    *, device: str | None = None, workers: int | None = None, port: int = 8786, preload=(), host: str = "127.0.0.1"
):
    """Start the cluster and return ``(cluster, client)``; models in ``preload`` are loaded on every worker."""
    from distributed import Client, LocalCluster

    from ..models.specs import check_spec

    specs = list(preload)
    for spec in specs:
        check_spec(spec)  # a bad spec fails here, before any worker starts
    if device and device.startswith("cuda"):
        from .gpus import gpu_cluster

        cluster = gpu_cluster(n_workers=workers, scheduler_port=port)
    else:
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host=host,
            scheduler_port=port,
            dashboard_address=":0",
            silence_logs=50,
        )
    client = Client(cluster)
    if specs:
        options = {"device": device} if device else {}
        client.run(_load_on_worker, specs, options)
    return cluster, client
