"""Notebook widgets (anywidget): thin views over the library's results, one per module."""

from .comparison import ModelComparison
from .embedding_map import EmbeddingMap
from .heatmap import SimilarityHeatmap
from .labeler import PairLabeler
from .neighbours import NeighbourExplorer
from .threshold import ThresholdTuner

__all__ = ["EmbeddingMap", "ModelComparison", "NeighbourExplorer", "PairLabeler", "SimilarityHeatmap", "ThresholdTuner"]
