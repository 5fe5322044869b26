"""Scoring large files of pairs on Dask (a local cluster or any existing one)."""

from .outputs import ScoreSummary, summarize
from .runner import score_file

__all__ = ["ScoreSummary", "score_file", "summarize"]
