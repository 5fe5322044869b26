"""Scoring large files of pairs on Dask (a local cluster or any existing one)."""

from .runner import ScoreSummary, score_file, summarize

__all__ = ["ScoreSummary", "score_file", "summarize"]
