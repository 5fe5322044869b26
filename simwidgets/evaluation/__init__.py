"""Judging models against human labels: readers, metrics, calibration and stacked models."""

from .audit import audit_sample, estimate_on_log, with_labels
from .calibration import IsotonicCalibrator, PercentileCalibrator, calibrate, random_pair_scores
from .cascade import Cascade, choose_cascade
from .cleaning import clean_results
from .compare import compare_models
from .datasets import (
    DATA,
    load_pairs,
    read_columns,
    read_mrpc,
    read_sick,
    read_stsb,
    read_word_pairs,
    standard_benchmarks,
)
from .ensemble import EnsembleResult, fit_ensemble
from .evaluate import evaluate_files, evaluate_pairs
from .features import pair_features
from .metrics import evaluate_scores
from .query_metrics import query_metrics
from .reliability import expected_calibration_error, reliability
from .sts_sets import evaluate_sts_dir, read_sts_tsv
from .threshold_choice import ThresholdChoice, best_thresholds, choose_threshold
from .threshold_migration import MigratedThreshold, migrate_threshold
from .thresholds import threshold_report

__all__ = [
    "DATA",
    "audit_sample",
    "Cascade",
    "choose_cascade",
    "estimate_on_log",
    "with_labels",
    "EnsembleResult",
    "IsotonicCalibrator",
    "PercentileCalibrator",
    "ThresholdChoice",
    "best_thresholds",
    "choose_threshold",
    "clean_results",
    "compare_models",
    "calibrate",
    "evaluate_files",
    "evaluate_pairs",
    "evaluate_scores",
    "evaluate_sts_dir",
    "fit_ensemble",
    "load_pairs",
    "migrate_threshold",
    "MigratedThreshold",
    "pair_features",
    "query_metrics",
    "reliability",
    "expected_calibration_error",
    "random_pair_scores",
    "read_columns",
    "read_mrpc",
    "read_sick",
    "read_stsb",
    "read_sts_tsv",
    "read_word_pairs",
    "standard_benchmarks",
    "threshold_report",
]
