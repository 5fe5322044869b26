"""Do the audit's intervals cover the truth of the whole log? A simulation with known labels.

A 10,000,000-row log is drawn (with repetition) from the STS-B train pairs, each scored once
by MiniLM, their gold hidden; a pair is good when its gold is 3 or more. 200 audits of 400
labels each (``audit_sample``, bands around the thresholds) are estimated (``estimate_on_log``)
at three thresholds. Printed: how often the 95% intervals of precision and recall hold the
log's true values, their mean widths, and the mean error of the estimates against the mean
error of the unweighted claim (the labels read as a plain sample). Usage:
python benchmarks/bench_audit.py [rows] [audits] [labels per audit]
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from common import record


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    audits = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    labels = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    from simwidgets import score_pairs
    from simwidgets.evaluation import DATA, audit_sample, estimate_on_log
    from simwidgets.readers import read_stsb

    pairs = read_stsb(DATA / "sts" / "stsb-en-train.csv") if (DATA / "sts" / "stsb-en-train.csv").exists() else None
    if pairs is None:
        pairs = read_stsb(DATA / "sts" / "stsb-en-dev.csv")
    scores = score_pairs(pairs.left, pairs.right, ["minilm"])["score_minilm"].to_numpy(np.float64)
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(pairs), rows)
    log = pd.DataFrame({"score_minilm": scores[pick], "good": (pairs.score.to_numpy() >= 3)[pick].astype(int)})
    thresholds = [0.6, 0.7, 0.8]
    truth = {}
    for t in thresholds:
        kept = log.score_minilm.to_numpy() >= t
        good = log.good.to_numpy().astype(bool)
        truth[t] = ((good & kept).sum() / kept.sum(), (good & kept).sum() / good.sum())
    hits = {(t, m): 0 for t in thresholds for m in ("precision", "recall")}
    widths = {(t, m): [] for t in thresholds for m in ("precision", "recall")}
    errors = {"weighted": [], "unweighted": []}
    for seed in range(audits):
        audit = audit_sample(log, "score_minilm", n=labels, bands=[0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85], seed=seed)
        audit["label"] = audit["good"]
        table = estimate_on_log(log, audit, "score_minilm", thresholds, good=1, n_boot=500, seed=seed)
        for t in thresholds:
            for k, m in enumerate(("precision", "recall")):
                low, high = table.loc[t, f"{m}_low"], table.loc[t, f"{m}_high"]
                hits[(t, m)] += low <= truth[t][k] <= high
                widths[(t, m)].append(high - low)
                errors["weighted"].append(abs(table.loc[t, m] - truth[t][k]))
                errors["unweighted"].append(abs(table.loc[t, f"sample_{m}"] - truth[t][k]))
    figures = {"rows": rows, "audits": audits, "labels_per_audit": labels, "pairs_scored": len(pairs)}
    for (t, m), n in hits.items():
        figures[f"coverage_{m}_at_{t}"] = n / audits
        figures[f"mean_width_{m}_at_{t}"] = float(np.mean(widths[(t, m)]))
    figures["mean_error_weighted"] = float(np.mean(errors["weighted"]))
    figures["mean_error_unweighted_claim"] = float(np.mean(errors["unweighted"]))
    record(f"audit_coverage_{rows}_{labels}_labels", figures)


if __name__ == "__main__":
    main()
