"""What a worker does with one partition of a score job: read it, score it with every model
(and a stacked model), and write its part; it returns the part's counts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..columns import is_reason, prob_column, reason_column, score_column, scored_models
from ..errors import InputError
from .inputs import bytes_as_text, empty_fields_as_text, read_partition, text_codes
from .job import PartitionTask
from .outputs import clash_message, clashing_columns, count_part, write_part


def _set_threads(threads: int | None) -> None:
    """Share the cores between workers, for models that use torch (static vectors never import it)."""
    import sys

    torch = sys.modules.get("torch")
    if threads and torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def score_partition(task: PartitionTask) -> dict:
    """Read one partition, score it with every model and write it; runs on a Dask worker.

    Models come from :func:`~simwidgets.load_model`, which keeps them per process: each
    worker loads a model once and reuses its embedding cache for every partition it scores,
    so a text repeated across partitions is embedded once per worker.
    """
    import pyarrow as pa

    from ..models import load_model
    from ..models.specs import device_options
    from ..similarity import score_coded_pairs

    job, part, index = task.job, task.part, task.index
    left, right = job.left, job.right
    models = [load_model(spec, **device_options(spec, job.device)) for spec in job.specs]
    _set_threads(task.threads)
    rows, bad = read_partition(part, job.on_bad_rows)
    clash = clashing_columns(rows.column_names, [m.name for m in models], job.ensemble is not None)
    if clash:  # names only the loaded models know: before scoring or writing, the first partition stops the job
        raise InputError(clash_message(clash))
    # an empty CSV field is scored as an empty text, not a missing one (the column keeps its null)
    texts = empty_fields_as_text(rows, (left, right)) if part.kind == "csv" else rows
    codes, uniques = text_codes(texts, left, right)
    if bad:  # a malformed row is kept but not scored: its fields may be shifted
        at = np.fromiter(bad, dtype=np.int64, count=len(bad))
        codes = codes.copy()
        codes[at] = codes[at + len(codes) // 2] = -1
    # no truncation warning per partition (warnings' filters are process-wide: not for threads)
    columns = score_coded_pairs(codes, uniques, models, progress=False, warn=False)
    if job.cascade:
        columns.update(cascade_columns(job, models, columns, codes, uniques))
    if job.ensemble:
        columns.update(ensemble_columns(job.ensemble, columns, rows, left, right))
    if job.calibrate:
        probs = prob_columns(job.calibrate, columns)
        clash = [name for name in probs if name in rows.column_names]
        if clash:
            raise InputError(clash_message(clash))
        columns.update(probs)
    if bad:
        why = np.array(list(bad.values()), dtype=object)
        for name, values in columns.items():
            if is_reason(name):
                values[at] = why
    if part.kind == "csv":
        rows = bytes_as_text(rows)  # text that is not valid UTF-8 is written with U+FFFD in its place
    for name, values in columns.items():
        if name == KEEP_COLUMN:  # a decision: true, false, or null where the deciding model gave no score
            rows = rows.append_column(name, pa.array(values == 1.0, mask=np.isnan(values)))
            continue
        rows = rows.append_column(name, pa.array(values, type=pa.float32() if values.dtype != object else pa.string()))
    write_part(rows, Path(job.out_dir), index)
    n = len(codes) // 2
    return {"index": index, "rows": n, "texts": len(uniques), "counts": count_part(columns, n)}


#: The cascade's decision column (kept: true / false / null).
KEEP_COLUMN = "keep_cascade"


def cascade_columns(job, models, columns: dict, codes: np.ndarray, uniques) -> dict:
    """The expensive model's ``score_``/``reason_`` columns, scored only on the pairs whose cheap
    score falls in the band (the others get :data:`OUTSIDE_BAND`), and ``keep_cascade``."""
    from ..evaluation.cascade import OUTSIDE_BAND, Cascade
    from ..models import load_model
    from ..models.specs import device_options
    from ..similarity import score_coded_pairs

    cheap_spec, expensive_spec, low, high, threshold = job.cascade
    cascade = Cascade(cheap_spec, expensive_spec, float(threshold), float(low), float(high))
    cheap = models[job.specs.index(cheap_spec)]
    expensive = load_model(expensive_spec, **device_options(expensive_spec, job.device))
    if score_column(expensive.name) in columns:
        raise InputError(f"the cascade's expensive model {expensive.name!r} is also one of the job's models")
    cheap_scores = columns[score_column(cheap.name)]
    sent = cascade.sends(cheap_scores)
    n = len(cheap_scores)
    scores = np.full(n, np.nan, dtype=np.float32)
    reasons = np.full(n, OUTSIDE_BAND, dtype=object)
    at = np.flatnonzero(sent)
    if len(at):
        inner = score_coded_pairs(
            np.concatenate([codes[:n][at], codes[n:][at]]), uniques, [expensive], progress=False, warn=False
        )
        scores[at] = inner[score_column(expensive.name)]
        reasons[at] = inner[reason_column(expensive.name)]
    return {
        score_column(expensive.name): scores,
        reason_column(expensive.name): reasons,
        KEEP_COLUMN: cascade.decide(cheap_scores, scores).astype(np.float32),
    }


_LOADED: dict = {}  # (loader, path, modification time) -> what it loaded, once per process


def _loaded(load, path: str):
    """``load(path)`` once per process and version of the file (a file written again is read again)."""
    key = (load, path, os.stat(path).st_mtime_ns)
    if key not in _LOADED:
        _LOADED[key] = load(path)
    return _LOADED[key]


def _stacked_model(path: str):
    from ..evaluation.ensemble import EnsembleResult

    result = EnsembleResult.load(path)
    head = result.model[-1]
    if hasattr(head, "n_jobs"):
        head.n_jobs = 1  # one thread per worker: the cluster already uses every core
    return result


def ensemble_columns(path: str, columns: dict, rows, left: str, right: str) -> dict:
    """``score_ensemble`` and ``reason_ensemble``: a saved stacked model's prediction from
    the partition's score columns and pair features; NaN where no model scored the pair."""
    result = _loaded(_stacked_model, path)
    texts = {side: [_text(v) for v in rows[side].to_pylist()] for side in (left, right)}
    prediction, reasons = result.predict_column(
        columns, texts[left], texts[right], scoring=f"this job (-m for each model; stacked model {Path(path).name})"
    )
    return {score_column("ensemble"): prediction, reason_column("ensemble"): reasons}


def _text(value):
    """A text for the stacked model's pair features (bytes that are not UTF-8 kept as surrogates)."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def prob_columns(path: str, columns: dict) -> dict:
    """``prob_<model>``: each calibrated model's scores through its calibrator (NaN where the
    pair has no score)."""
    from ..evaluation.calibration import load_calibrators

    out = {}
    for name, calibrator in _loaded(load_calibrators, path).items():
        if score_column(name) not in columns:
            raise InputError(
                f"the calibrators file {Path(path).name} calibrates {name!r}, which this job does not score; "
                f"it scores {scored_models(columns)}"
            )
        out[prob_column(name)] = calibrator.transform(columns[score_column(name)]).astype(np.float32)
    return out
