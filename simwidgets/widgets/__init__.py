"""Notebook widgets (anywidget): thin views over the library's results."""

from .heatmap import SimilarityHeatmap

__all__ = ["SimilarityHeatmap"]
