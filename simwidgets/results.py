"""What the main functions return, for type hints and ``isinstance``: a trained model, a
cross-validation, a learning curve, a stacked model, a chosen threshold, an embedding report, a score job's
summary, and the calibrators ``calibrate`` builds."""

from .batch import ScoreSummary
from .evaluation.calibration import IsotonicCalibrator, PercentileCalibrator
from .evaluation.ensemble import EnsembleResult
from .evaluation.threshold_choice import ThresholdChoice
from .models.base import EmbedReport
from .training.cross_validation import CrossValidation
from .training.learning_curve import LearningCurve
from .training.result import TrainedModel

__all__ = [
    "CrossValidation",
    "EmbedReport",
    "EnsembleResult",
    "IsotonicCalibrator",
    "LearningCurve",
    "PercentileCalibrator",
    "ScoreSummary",
    "ThresholdChoice",
    "TrainedModel",
]
