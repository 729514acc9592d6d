"""What TensorFlow Model Analysis (TFMA) leaves to the notebook: importing it quietly, writing a DataFrame
as tf.Examples, and reading its results into pandas tables and matplotlib plots.

TFMA itself (``EvalConfig``, slicing specs, thresholds, ``run_model_analysis``) is called in the labs, in
plain sight. Importing this package imports nothing heavy: TensorFlow and TFMA are imported inside the
functions that need them.
"""

from helpers.evaluation.examples import beam_options, import_tfma, write_examples
from helpers.evaluation.plots import confusion_at, plot_calibration, plot_confusion
from helpers.evaluation.tables import (
    OVERALL,
    dropped_slices,
    fairness_frame,
    metrics_frame,
    slice_name,
    time_series_frame,
    validation_frame,
)

__all__ = [
    "OVERALL", "beam_options", "confusion_at", "dropped_slices", "fairness_frame", "import_tfma", "metrics_frame",
    "plot_calibration", "plot_confusion", "slice_name", "time_series_frame", "validation_frame", "write_examples",
]
