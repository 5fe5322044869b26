"""Shared helpers of the benchmarks: the synthetic search log, machine facts, the results file."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.jsonl"
DATA = Path(os.environ.get("SIMWIDGETS_BENCH_DATA", "/tmp/simwidgets-bench"))


def machine() -> str:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.machine()}, {os.cpu_count()} cores, {gpu}"


def record(benchmark: str, figures: dict) -> None:
    """Print the figures and append them, with the machine and time, to results.jsonl."""
    entry = {"benchmark": benchmark, "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), **figures}
    for key, value in figures.items():
        print(f"  {key}: {value:,.4g}" if isinstance(value, (int, float)) else f"  {key}: {value}")
    with open(RESULTS, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def log_words() -> list[str]:
    """The 50,000 GloVe words (after the 100 most frequent) the search log is made of."""
    from simwidgets import load_model

    return load_model("glove-50d").vocabulary().tokens[100:50_100]


def search_log(n_pairs: int = 1_000_000, n_queries: int = 20_000, n_results: int = 200_000,
               seed: int = 0, words: list[str] | None = None) -> pd.DataFrame:
    """A synthetic search log: Zipf-distributed repeats of distinct queries and results.

    Queries are 1-4 words and results 3-10 words drawn from the 50,000 most frequent GloVe
    words (a few percent made out of vocabulary, as typos are), so the texts are realistic
    in length and repetition, and the log has the shape of the motivating user's.
    ``words`` (default :func:`log_words`) lets machines without the GloVe table build it.
    """
    rng = np.random.default_rng(seed)
    words = np.array(log_words() if words is None else words, dtype=object)
    word_ranks = np.minimum(rng.zipf(1.3, 2_000_000), len(words)) - 1

    def texts(n, low, high):
        lengths = rng.integers(low, high + 1, n)
        picks = words[word_ranks[rng.integers(0, len(word_ranks), lengths.sum())]]
        out, start = [], 0
        for length in lengths:
            chunk = list(picks[start : start + length])
            if rng.random() < 0.05:
                chunk[0] = chunk[0] + "zq"  # a typo: out of vocabulary
            out.append(" ".join(chunk))
            start += length
        return np.array(out, dtype=object)

    queries = texts(n_queries, 1, 4)
    results = texts(n_results, 3, 10)
    q = (rng.zipf(1.1, n_pairs) - 1) % n_queries
    r = (rng.zipf(1.05, n_pairs) - 1) % n_results
    return pd.DataFrame({"query": queries[q], "result": results[r], "clicks": rng.integers(0, 50, n_pairs)})


def search_log_csv(n_pairs: int = 1_000_000) -> Path:
    """The search log written once as CSV under DATA (reused by later runs)."""
    path = DATA / f"search-log-{n_pairs}.csv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        search_log(n_pairs).to_csv(path.with_suffix(".tmp"), index=False)
        path.with_suffix(".tmp").rename(path)
    return path
