"""The host work `embed` adds to a model, per million new texts: deduplicating, cleaning,
cache lookups and stores, gathering rows back. A model that costs nothing (zero vectors)
isolates it; on a GPU this work runs beside the encoder's own and bounds a first pass.

Texts are STS-B train's sentences, numbered so that every one is new, and each call is
timed after a warm-up call of as many other texts (so the cache's memory is reused, as in a
running job). ``--ref REV`` times the same with the package at git revision REV (checked
out in a temporary worktree, run in a child process), the baseline for the ratio.

    python benchmarks/bench_embed_host.py [--texts 1000000] [--repeats 3] [--ref HEAD~1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(n_texts: int, repeats: int) -> list[float]:
    """Seconds per call of ``embed`` over ``n_texts`` new texts through a zero-cost model."""
    import numpy as np

    import simwidgets
    from simwidgets.evaluation.datasets import read_stsb
    from simwidgets.models.base import Embedder
    from simwidgets.models.notes import Notes

    class Zero(Embedder):
        name = "zero"

        def _embed_many(self, texts, progress):
            return np.zeros((len(texts), 384), np.float32), Notes.from_counts(np.full(len(texts), 20))

    train = read_stsb(Path(simwidgets.__file__).parent / "data" / "sts" / "stsb-en-train.csv")
    lines = list(dict.fromkeys([*train["left"], *train["right"]]))
    model = Zero()
    seconds = []
    for r in range(repeats + 1):
        texts = [f"{lines[i % len(lines)]} {r}.{i}" for i in range(n_texts)]
        start = time.perf_counter()
        model.embed(texts, progress=False)
        if r:  # the first call warms up: the cache's arrays are allocated and touched
            seconds.append(time.perf_counter() - start)
    return seconds


def measure_at(rev: str, n_texts: int, repeats: int) -> list[float]:
    """:func:`measure` with the package at git revision ``rev``, in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), rev], check=True)
        try:
            code = (
                f"import sys, json; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
                f"from bench_embed_host import measure; print(json.dumps(measure({n_texts}, {repeats})))"
            )
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run(  # run from the worktree: a child's first import path is its folder
                [sys.executable, "-c", code + "; import simwidgets; print(simwidgets.__file__)"],
                env=env,
                cwd=tree,
                check=True,
                capture_output=True,
                text=True,
            )
            *_, figures, imported = out.stdout.strip().splitlines()
            if not imported.startswith(str(tree)):
                raise RuntimeError(f"the baseline imported simwidgets from {imported}, not from {tree}")
            return json.loads(figures)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ref", default=None, help="git revision to time as the baseline, in the same run")
    args = parser.parse_args()
    from common import record

    figures = {"texts": args.texts}
    runs = {"this tree": None, **({f"at {args.ref}": args.ref} if args.ref else {})}
    # alternate the two, so drift on a shared machine falls on both
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(2):
        for name, rev in runs.items():
            times[name] += (
                measure(args.texts, args.repeats) if rev is None else measure_at(rev, args.texts, args.repeats)
            )
    per_million = {name: min(ts) * 1e6 / args.texts for name, ts in times.items()}
    figures["host_seconds_per_million"] = per_million["this tree"]
    figures["host_seconds_all_runs"] = json.dumps([round(t, 3) for t in times["this tree"]])
    if args.ref:
        figures["ref"] = args.ref
        figures["ref_host_seconds_per_million"] = per_million[f"at {args.ref}"]
        figures["ref_host_seconds_all_runs"] = json.dumps([round(t, 3) for t in times[f"at {args.ref}"]])
        figures["speedup_vs_ref"] = per_million[f"at {args.ref}"] / per_million["this tree"]
    record("embed_host", figures)


if __name__ == "__main__":
    main()
