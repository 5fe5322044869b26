"""Score files of pairs on Dask: one task per partition, resumable, every row accounted for."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..errors import InputError, OptionError
from ..files import mark_complete
from ..texts import duration_text
from .inputs import (
    MAX_RECORD_BYTES,
    expand_inputs,
    input_columns,
    plan_partitions,
)
from .job import PartitionTask, ScoreJob
from .outputs import (
    ScoreSummary,
    claim_output,
    clash_message,
    clashing_columns,
    prepare_output,
    summarize,
)
from .worker import score_partition

MAX_BLOCKSIZE = 16_000_000  # bytes of CSV per partition, at most, by default
MIN_BLOCKSIZE = 1_000_000
TARGET_PARTITIONS = 32  # by default, small inputs are cut into about this many partitions


def default_blocksize(files: list[Path]) -> int:
    """CSV bytes per partition for an input: enough partitions to keep every worker of a
    small cluster busy until the end (a partition costs little: 10-20 ms of overhead), at
    most 16 MB each. It depends on the input alone, so a rerun resumes the same partitions."""
    total = sum(f.stat().st_size for f in files)
    return int(min(MAX_BLOCKSIZE, max(MIN_BLOCKSIZE, total // TARGET_PARTITIONS)))


def _client(scheduler: str | None, workers: int | None, device: str | None = None, threads=None, processes=None):
    from distributed import Client

    from .cluster import local_cluster

    if scheduler:
        return Client(scheduler), None
    cluster = local_cluster(device=device, workers=workers, threads=threads, processes=processes)
    return Client(cluster), cluster


def score_file(
    input,
    output,
    left: str,
    right: str,
    models=("minilm",),
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    blocksize: int | None = None,
    device: str | None = None,
    sep: str | None = None,
    on_bad_rows: str = "keep",
    ensemble=None,
    text_columns=(),
    progress: bool = True,
    client=None,
    threads: int | None = None,
    processes: bool | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    calibrate=None,
    cascade=None,
) -> ScoreSummary:
    """Score every pair of a CSV/Parquet input with each model, on Dask, into a Parquet folder.

    Parameters
    ----------
    input
        A CSV or Parquet file, a folder of them, or a glob.
    output
        Folder for ``part-NNNNN.parquet`` files (one per input partition, in input order)
        plus ``_manifest.json``. Rerunning the same job resumes: finished parts are kept.
    left, right
        Column names of the two texts.
    models
        Model specs (strings: they are loaded again on each worker).
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); default: a local cluster
        whose worker runs in this process (see ``processes``).
    workers
        CPU: threads of the local worker (default: one per core), or processes with
        ``processes=True``; GPU: how many of the visible cards to use (default: all).
    blocksize
        Bytes of CSV per partition (default: the input's size over 32, between 1 MB and 16 MB;
        Parquet partitions follow row groups).
    device
        ``"cuda"`` or ``"cpu"`` for transformer models (default: a GPU when present). With
        ``"cuda"`` and no ``scheduler``, the local cluster has one worker per GPU
        (``workers`` caps how many), each running the streaming encoder on its own card.
    sep
        CSV field separator (default: a tab for ``.tsv`` files, else a comma). Compressed CSV
        (``.csv.gz``, ``.csv.zst``...) is read through fsspec, each file as one partition.
    on_bad_rows
        ``"keep"`` (default): a CSV row with more or fewer fields than the header is kept,
        unscored, with the reason ``malformed row: N fields where the header has M, at byte
        B``; ``"fail"``: such a row stops the job, naming its byte offset.
    ensemble
        Path of a stacked model saved with :meth:`~simwidgets.results.EnsembleResult.save`: its
        prediction is added as ``score_ensemble`` (the job must score the models it needs). Its
        cost per million rows of one core: about 4 s of pair features, and 9 s of prediction
        for a 300-tree forest (0.1 s for a linear model).
    text_columns
        CSV columns to keep as text although they look like numbers, booleans or dates (zip
        codes with leading zeros, say). The other columns keep the types inferred on the
        input's first block: integers stay integers in the output; a later block with a value
        that type cannot hold stops the job, naming the column, the block and this option.
    client
        An existing ``distributed.Client`` to use instead.
    threads
        Partitions scored at once per worker (default: one per core on a CPU, 4 per GPU).
    processes
        ``None`` (default): the local worker is threads of this process, so nothing starts
        and every thread shares the models and their embedding cache (a text repeated
        across partitions is embedded once); models take turns, while reading, cache hits,
        scoring and writing run in parallel. With several GPUs, one process per card.
        ``True``: ``workers`` processes of one thread each, for a model whose own code holds
        Python's GIL (a plain Python callable) on a machine with many cores.
    calibrate
        A calibrators file (:func:`~simwidgets.evaluation.calibration.save_calibrators`):
        each model it calibrates gets a ``prob_<model>`` column beside its score, the score
        mapped to the share of good pairs its labels showed.
    cascade
        A :class:`~simwidgets.evaluation.cascade.Cascade` (from
        :func:`~simwidgets.evaluation.choose_cascade`) or the JSON file it saved: its cheap model
        (added to ``models`` if missing) scores every pair, its expensive model only the pairs
        whose cheap score is in the band (``score_<expensive>``; elsewhere NaN with the reason
        "outside the cascade band"), and ``keep_cascade`` holds each row's decision (true,
        false, or null where the deciding model had no score). The summary says how many
        expensive calls the band saved.
    max_record_bytes
        The longest record a compressed CSV input may hold (default 256 MiB): a file with a
        longer line (a wrong file, a decompression bomb) stops the job with a clear error
        before it takes more memory than that. Uncompressed files need no bound.

    One job at a time writes into an output folder: a second job (of any command) into a
    folder that a running job holds fails at once, naming the folder.

    Worker processes (``processes=True``, several GPUs, and the GPU's tokenizer processes)
    start by importing your script again: when you call this from a script, put the call
    under ``if __name__ == "__main__":`` (a call that is not is refused at once, with that fix).

    Every input column is kept; per model, ``score_<name>`` and ``reason_<name>`` are added.
    Reading the output folder (``pandas.read_parquet(output)``) gives the input's rows in order.
    The job writes ``_SUCCESS`` (its part count and rows) last: a folder without it is an
    unfinished job (killed, interrupted, failed or still running), which ``simwidgets
    threshold`` and :func:`~simwidgets.evaluation.datasets.read_table` refuse unless asked
    (``--partial``, ``allow_partial=True``); ``pandas.read_parquet`` does not check.
    """
    from ..extras import require

    require("distributed", "score_file (Dask)")

    specs = [models] if isinstance(models, str) else list(models)
    # no models is fine with a cascade: its cheap model is added below
    if not (specs or cascade is not None) or not all(isinstance(s, str) for s in specs):
        raise OptionError("models must be spec strings (each worker loads them itself)")
    from ..models import check_spec

    # Unknown families and missing paths fail at once, before any cluster starts. The client
    # loads no model: workers do (a transformer in the client would take seconds of imports
    # and, on a GPU host, memory on the first card).
    if on_bad_rows not in ("keep", "fail"):
        raise InputError(f"on_bad_rows must be 'keep' or 'fail', got {on_bad_rows!r}")
    from ..models.specs import device_options

    cascade_fields = None
    if cascade is not None:
        from ..evaluation.cascade import Cascade

        if not isinstance(cascade, Cascade):
            cascade = Cascade.load(cascade)
        if cascade.cheap not in specs:
            specs.append(cascade.cheap)
        check_spec(cascade.expensive, **device_options(cascade.expensive, device))
        cascade_fields = (cascade.cheap, cascade.expensive, cascade.low, cascade.high, cascade.threshold)
    for spec in specs:
        check_spec(spec, **device_options(spec, device))
    files = expand_inputs(input)
    out_dir = Path(output).expanduser()
    blocksize = int(blocksize or default_blocksize(files))
    if blocksize < 1:
        raise InputError(f"blocksize must be a positive number of bytes, got {blocksize}")
    text_columns = [text_columns] if isinstance(text_columns, str) else list(text_columns or ())
    parts = plan_partitions(files, left, right, blocksize, sep, text_columns, max_record_bytes)
    mtime = None
    if ensemble is not None:
        ensemble = Path(ensemble).expanduser().resolve()
        if not ensemble.is_file():
            raise FileNotFoundError(f"stacked model file not found: {ensemble}")
        from ..evaluation.ensemble import EnsembleResult

        EnsembleResult.load(ensemble)  # a file holding anything but a stacked model is refused here, before any work
        ensemble, mtime = str(ensemble), ensemble.stat().st_mtime_ns
    calibrate_mtime = None
    if calibrate is not None:
        from ..evaluation.calibration import load_calibrators

        calibrate = Path(calibrate).expanduser().resolve()
        load_calibrators(calibrate)  # a file that is not a calibrators file is refused here, before any work
        calibrate, calibrate_mtime = str(calibrate), calibrate.stat().st_mtime_ns
    job = ScoreJob(
        tuple(str(f) for f in files), left, right, tuple(specs), blocksize, str(out_dir), sep=sep or None,
        text_columns=tuple(text_columns), ensemble=ensemble, ensemble_mtime_ns=mtime, device=device,
        on_bad_rows=on_bad_rows, calibrate=calibrate, calibrate_mtime_ns=calibrate_mtime, cascade=cascade_fields,
    )  # fmt: skip
    clash = clashing_columns(input_columns(parts[0]), specs, ensemble is not None)
    if clash:
        raise InputError(clash_message(clash))
    claim = claim_output(out_dir)
    try:
        return _run_job(job, parts, scheduler, workers, threads, processes, client, progress)
    finally:
        claim.release()


def _run_job(job: ScoreJob, parts, scheduler, workers, threads, processes, client, progress) -> ScoreSummary:
    """The job's work once its output folder is claimed: resume, score the rest, sum up."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    from ..models.specs import device_options

    out_dir, device, specs = Path(job.out_dir), job.device, job.specs
    done = prepare_output(out_dir, job.manifest(), len(parts))
    todo = [i for i in range(len(parts)) if i not in done]
    from .cluster import uses_processes
    from .gpus import chosen_gpus, on_gpu

    worker_processes = uses_processes(device, processes, len(chosen_gpus(workers)) if on_gpu(device) else 1)
    local = client is None and scheduler is None and bool(todo)
    # a transformer on a GPU (asked for, or found with no device given) tokenizes in processes
    gpu_model = on_gpu(device) or (
        device is None and any(device_options(spec, "cuda") for spec in specs) and bool(chosen_gpus())
    )
    if local and (gpu_model or worker_processes):
        check_main_guard()
    start = time.perf_counter()
    own_client = client is None
    cluster = None
    if client is None and todo:
        client, cluster = _client(scheduler, workers, device, threads, processes)
    dashboard = getattr(client, "dashboard_link", None) if client is not None else None
    if cluster is not None:
        from .cluster import dashboard_link

        dashboard = dashboard_link(cluster) or dashboard
    if progress and dashboard and cluster is not None:
        print(f"Dask dashboard: {dashboard}", flush=True)
    counted: dict[int, dict] = {}
    try:
        if todo:
            # torch threads per worker process; a worker in this process leaves torch as it is
            worker_info = client.scheduler_info().get("workers", {})
            n_workers = max(1, len(worker_info) or 1)
            own_processes = cluster is not None and worker_processes
            torch_threads = max(1, (os.cpu_count() or 1) // n_workers) if own_processes else None
            # A spec that passed check_spec but cannot load (a broken file, a bad option, two
            # models with one name) fails in the first task, and its error is raised here.
            futures = [
                client.submit(score_partition, PartitionTask(job, parts[i], i, torch_threads), pure=False) for i in todo
            ]
            # tqdm's own time left counts partitions as equal; ours weighs them by their size
            bar = tqdm(total=len(todo), desc="partitions", unit="part", disable=not progress,
                       bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")  # fmt: skip
            rows = texts = 0
            pace = Pace(partition_sizes([parts[i] for i in todo]), start)
            position = {i: k for k, i in enumerate(todo)}
            # workers that are threads of this process: show the texts embedded while partitions run
            ticker = _EmbeddingTicker(bar, pace) if progress and cluster is not None and not worker_processes else None
            with bar:
                try:
                    for future in as_completed(futures):
                        result = future.result()
                        pace.finished(position[result["index"]])
                        counted[result["index"]] = result["counts"]
                        rows += result["rows"]
                        texts += result["texts"]
                        elapsed = time.perf_counter() - start
                        if ticker is not None:
                            ticker.rows = rows
                        else:
                            bar.set_postfix_str(
                                f"rows {rows / elapsed:,.0f}/s, texts {texts / elapsed:,.0f}/s, {pace.left()}"
                            )
                        bar.update(1)
                finally:
                    if ticker is not None:
                        ticker.stop()  # its last line (every partition done, or the job stopped)
    finally:
        if own_client and client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    summary = summarize(out_dir, len(parts), len(done), time.perf_counter() - start, dashboard, counted)
    mark_complete(out_dir, len(parts), summary.rows)
    return summary


def partition_sizes(parts) -> list[float]:
    """How much work each partition is, for the time left: a CSV block's bytes (a compressed
    file's bytes on disk), a Parquet row group's rows."""
    import pyarrow.parquet as pq

    sizes, row_groups = [], {}
    for part in parts:
        if part.kind == "parquet":
            if part.path not in row_groups:
                meta = pq.ParquetFile(part.path).metadata
                row_groups[part.path] = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
            groups = row_groups[part.path]
            sizes.append(float(groups[part.start]) if part.start < len(groups) else 0.0)
        else:
            sizes.append(float(part.length if part.length > 0 else os.path.getsize(part.path)))
    return sizes


class Pace:
    """The time a job has left at the pace so far: the work of the partitions not yet
    finished (:func:`partition_sizes`) over the work finished per second. Said only once a
    partition has finished, and said to be a pace: the first partitions, which load the models
    and fill the caches, are the slowest, so it errs long early on.

    >>> pace = Pace([100.0, 100.0, 200.0], start=0.0)
    >>> pace.left(now=5.0)
    'time left: known when a partition is written'
    >>> pace.finished(0); pace.left(now=10.0)
    'about 30 s left at the pace so far'
    """

    def __init__(self, sizes: list[float], start: float):
        self.sizes, self.start = list(sizes), start
        self.total = float(sum(self.sizes)) or 1.0
        self.done = 0.0

    def finished(self, position: int) -> None:
        self.done += self.sizes[position]

    def left(self, now: float | None = None) -> str:
        if self.done <= 0:
            return "time left: known when a partition is written"
        elapsed = (time.perf_counter() if now is None else now) - self.start
        seconds = max(0.0, (self.total - self.done) * elapsed / self.done)
        return f"about {duration_text(seconds)} left at the pace so far"


class _EmbeddingTicker:
    """Show every second how many texts the job has embedded so far, of the distinct texts
    the partitions under way have taken up to embed (those no cache held), at what rate, and
    the rows of finished partitions per second (a partition of a big job can take minutes:
    the bar over partitions alone would sit at 0, its ETA unknown, while the model works)."""

    def __init__(self, bar, pace, every: float = 1.0):
        import threading

        from ..models.base import texts_embedded, texts_to_embed

        self._count, self._base = texts_embedded, texts_embedded()
        self._todo, self._todo_base = texts_to_embed, texts_to_embed()
        self._bar, self._pace, self._start = bar, pace, pace.start
        self.rows = 0  # rows of the partitions finished so far (set by the job)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._done.wait(every):
            self.show()

    def show(self) -> None:
        embedded = self._count() - self._base
        todo = max(self._todo() - self._todo_base, embedded)
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        self._bar.set_postfix_str(
            f"texts embedded {embedded:,} of {todo:,} taken up ({embedded / elapsed:,.0f}/s), "
            f"rows {self.rows / elapsed:,.0f}/s, {self._pace.left()}"
        )

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self.show()


def check_main_guard() -> None:
    """Refuse, before any worker starts, a call made at the top level of a script without
    ``if __name__ == "__main__":``: worker processes import the script again, which would
    start the job again in each of them ("Nanny failed to start")."""
    import ast
    import sys

    frame = sys._getframe(1)
    package = __name__.split(".")[0]
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == package:
        frame = frame.f_back
    if frame is None or frame.f_code.co_name != "<module>" or frame.f_globals.get("__name__") != "__main__":
        return
    script = frame.f_globals.get("__file__")
    if not script or not os.path.isfile(script):
        return  # python -c, a notebook, a REPL: workers do not re-run anything
    try:
        tree = ast.parse(Path(script).read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return
    line = frame.f_lineno
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) and "__name__" in ast.unparse(node.test):
            if node.body and node.body[0].lineno <= line <= (node.body[-1].end_lineno or line):
                return
    raise RuntimeError(
        f"score_file starts worker processes, and each one imports {Path(script).name} again, "
        "which would start this job again inside it. Put the call under a main guard:\n\n"
        'if __name__ == "__main__":\n    summary = score_file(...)\n'
    )
