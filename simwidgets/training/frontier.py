"""The speed-quality frontier on the user's own labels and machine: for each candidate, its
held-out metric (from :func:`~simwidgets.cross_validate`), the texts or pairs per second it
scores here, and the hours a log of ``rows`` rows would take.

Speed is measured, not looked up: each model embeds distinct texts of the labelled pairs that
no cache holds (a pair scorer scores pairs), after one warm-up batch, on the CPU and, where a
GPU is visible and the family runs on one, on the GPU. A row of the log costs
``texts_per_row`` new texts (2.0: every query and result new; a log whose texts repeat costs
less) for an encoder, one call for a pair scorer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from .cross_validation import CrossValidation, cross_validate


def measure_speed(spec: str, texts: list[str], device: str, seconds: float = 10.0) -> float:
    """Texts per second (pairs per second for a pair scorer) of ``spec`` on ``device``, on
    ``texts`` no cache holds; NaN when the model does not run there."""
    from ..models import load_model
    from ..models.specs import device_options

    options = device_options(spec, device)
    if device != "cpu" and not options:
        return float("nan")  # the family has no device to run on but the CPU
    try:
        model = load_model(spec, **options)
    except InputError:
        return float("nan")  # e.g. an ONNX backend asked for a GPU
    texts = [t for t in dict.fromkeys(texts) if isinstance(t, str) and t.strip()]
    if len(texts) < 4:
        raise InputError("too few distinct texts to time the models on")
    warm, rest = texts[:32], texts[32:] or texts
    if getattr(model, "scores_pairs", False):
        pairs = list(zip(rest[::2], rest[1::2]))
        model.score_batch([a for a, _ in pairs[:16]], [b for _, b in pairs[:16]], progress=False)
        start, done = time.perf_counter(), 0
        for at in range(0, len(pairs), 256):
            chunk = pairs[at : at + 256]
            model.score_batch([a for a, _ in chunk], [b for _, b in chunk], progress=False)
            done += len(chunk)
            if time.perf_counter() - start > seconds:
                break
        return done / (time.perf_counter() - start)
    model.prepare_for(texts)  # a corpus-fitted model (TF-IDF) fits first, as in a job
    model.embed_uncached(warm)
    start, done = time.perf_counter(), 0
    step = max(256, getattr(model, "batch_size", 256))
    for at in range(0, len(rest), step):
        model.embed_uncached(rest[at : at + step])
        done += len(rest[at : at + step])
        if time.perf_counter() - start > seconds:
            break
    return done / (time.perf_counter() - start)


@dataclass
class Frontier:
    """Quality against speed for each candidate on these labels and this machine.

    ``table`` has, per candidate: the held-out metric with its interval, ``texts_per_s_cpu``
    (pairs for a pair scorer) and ``hours_cpu`` for ``rows`` rows, the same on the GPU where
    there is one, and ``on_frontier`` (no other candidate is both better and faster).
    """

    table: pd.DataFrame
    metric: str
    rows: int
    texts_per_row: float
    cross_validation: CrossValidation

    def __str__(self) -> str:
        cols = [c for c in self.table.columns if c != "type"]
        return (
            f"speed-quality frontier: {self.metric} held out, hours for {self.rows:,} rows "
            f"({self.texts_per_row:g} new texts a row)\n{self.table[cols].to_string(float_format=lambda x: f'{x:.4g}')}"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p>Speed-quality frontier: {self.metric} held out; hours for {self.rows:,} rows "
            f"({self.texts_per_row:g} new texts a row). <b>on_frontier</b>: no other candidate is both "
            "better and faster.</p>" + self.table.to_html(float_format=lambda x: f"{x:.4g}")
        )

    def plot(self, ax=None):
        """The frontier as a chart (matplotlib; the ``[export]`` extra): hours for the log
        (log scale) against the held-out metric with its interval, frontier points joined."""
        from ..extras import require

        require("matplotlib", "Frontier.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self.table.dropna(subset=["hours_cpu"])
        metric = t[self.metric]
        yerr = np.vstack([metric - t[f"{self.metric}_low"], t[f"{self.metric}_high"] - metric])
        ax.errorbar(t["hours_cpu"], metric, yerr=yerr, fmt="o", capsize=3)
        for name, row in t.iterrows():
            ax.annotate(str(name), (row["hours_cpu"], row[self.metric]), textcoords="offset points", xytext=(4, 4))
        best = t[t["on_frontier"]].sort_values("hours_cpu")
        ax.plot(best["hours_cpu"], best[self.metric], "-", alpha=0.5)
        ax.set_xscale("log")
        ax.set_xlabel(f"hours for {self.rows:,} rows on this machine's CPU")
        ax.set_ylabel(f"{self.metric} (held out)")
        return ax


def frontier(
    candidates,
    left,
    right,
    gold,
    *,
    rows: int = 1_000_000_000,
    texts_per_row: float = 2.0,
    folds: int = 5,
    groups=None,
    seed: int = 0,
    seconds: float = 10.0,
    gpu: bool | None = None,
    progress: bool = True,
) -> Frontier:
    """Each candidate's held-out quality on your labels, its speed on this machine, and what a
    log of ``rows`` rows would cost it.

    Parameters
    ----------
    candidates
        What :func:`~simwidgets.cross_validate` takes: specs (``"minilm"``,
        ``"minilm?backend=onnx-int8"``, a ``distill_static`` spec, ``"glove-50d"``...) and
        trainers (an encoder trainer timed at its base's speed; a cross-encoder trainer not
        timed: time its trained ``ce:`` spec).
    rows, texts_per_row
        The log's size, and the new texts each row brings (2.0: none repeat).
    seconds
        The longest time spent timing one model on one device.
    gpu
        Time on the GPU too (default: when one is visible).

    Examples
    --------
    >>> f = sw.frontier(["minilm", "minilm?backend=onnx-int8", static_spec, "glove-50d"],
    ...                 df.query, df.result, df.grade)  # doctest: +SKIP
    >>> f.table[["spearman", "spearman_low", "spearman_high", "hours_cpu", "on_frontier"]]  # doctest: +SKIP
    >>> f.plot()  # doctest: +SKIP
    """
    if rows < 1 or texts_per_row <= 0:
        raise InputError("rows must be at least 1 and texts_per_row positive")
    result = cross_validate(candidates, left, right, gold, folds=folds, groups=groups, seed=seed, progress=progress)
    table = result.table.copy()
    metric = next(m for m in ("spearman", "roc_auc", "average_precision") if m in table.columns)
    if gpu is None:
        import sys

        torch = sys.modules.get("torch")
        gpu = bool(torch is not None and torch.cuda.is_available())
    texts = [t for pair in zip(list(left), list(right)) for t in pair]
    for device in ["cpu", "cuda"] if gpu else ["cpu"]:
        speed = speed_columns(candidates, texts, table.index, rows, texts_per_row, seconds, device)
        table = table.join(speed)
    table = table[
        [
            metric,
            f"{metric}_low",
            f"{metric}_high",
            *[c for c in table.columns if c.startswith(("texts_per_s", "hours"))],
        ]
    ]
    quality, hours = table[metric].to_numpy(float), table["hours_cpu"].to_numpy(float)
    table["on_frontier"] = [
        bool(np.isfinite(h) and not np.any((quality > q) & (hours <= h) | (quality >= q) & (hours < h)))
        for q, h in zip(quality, hours)
    ]
    return Frontier(table, metric, int(rows), float(texts_per_row), result)


def speed_columns(
    candidates, texts, names, rows: int, texts_per_row: float = 2.0, seconds: float = 5.0, device: str = "cpu"
) -> pd.DataFrame:
    """``texts_per_s_<cpu|gpu>`` and ``hours_<cpu|gpu>`` (for ``rows`` rows) per model name,
    measured here on ``device`` (NaN for a name with nothing to time); what :func:`frontier`
    and ``ModelComparison(..., speed_rows=N)`` add to their tables."""
    key = "cpu" if device == "cpu" else "gpu"
    by_name = _specs_by_name(candidates)
    columns = [f"texts_per_s_{key}", f"hours_{key}"]
    out = pd.DataFrame(index=pd.Index(list(names), name=getattr(names, "name", None)), columns=columns, dtype=float)
    for name in out.index:
        spec = by_name.get(name)
        if spec is None:
            continue
        speed = measure_speed(spec, texts, device, seconds)
        per_row = 1.0 if _is_pair_scorer(spec) else texts_per_row
        out.loc[name] = [speed, rows * per_row / speed / 3600]
    return out


def _specs_by_name(candidates) -> dict:
    """The spec to time for each row name of the table: a spec's model name; a trainer's base
    under its model name (the table adds a trainer's base) and, for an encoder trainer, under
    the trainer's name too (a fine-tuned encoder runs at its base's speed). Not timed: a stacked
    model, and a cross-encoder trainer, whose model scores pairs at a cross-encoder's speed, not
    its base encoder's (give its trained ``ce:`` spec as a candidate to time it)."""
    from ..models import load_model
    from .candidates import CrossEncoderTrainer

    out = {}
    for candidate in candidates:
        if isinstance(candidate, str):
            if not candidate.startswith("ensemble:"):
                out[load_model(candidate).name] = candidate
            continue
        base = getattr(candidate, "base", None)
        if not isinstance(base, str):
            continue
        out[load_model(base).name] = base
        if not isinstance(candidate, CrossEncoderTrainer):
            out[getattr(candidate, "name", str(candidate))] = base
    return out


def _is_pair_scorer(spec) -> bool:
    if not isinstance(spec, str):
        return False
    from ..models.specs import parse_spec

    return parse_spec(spec)[0] == "ce"
