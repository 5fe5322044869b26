"""Notebook widgets (anywidget): thin views over the library's results, one per module."""

from .embedding_map import EmbeddingMap
from .heatmap import SimilarityHeatmap
from .neighbours import NeighbourExplorer
from .threshold import ThresholdTuner

__all__ = ["EmbeddingMap", "NeighbourExplorer", "SimilarityHeatmap", "ThresholdTuner"]
