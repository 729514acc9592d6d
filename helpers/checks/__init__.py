"""Self-checks for the assignments: an immediate verdict after each exercise, on Colab as locally.

Each check returns a ``Verdict``, shown as the last line of its cell: ``✓ Exercise N passed: ...``, or
``✗ Exercise N: what is wrong`` followed by a hint. A check never raises: a wrong type, an empty split or
a missing feature is a verdict too, and the verdict says whose problem it is: what the learner handed over
or wrote (``✗``), or a failure of the check itself, such as a bug in it or a Beam job that could not run
(``⚠ ... the check itself failed``), which no change to the learner's code would fix. Checks need no grading
tool (nbgrader only builds the learner copies); they import TFDV, TensorFlow and tf.Transform only inside
the functions that need them.

A check cell may name the notebook's variables instead of passing them (``checks.check_schema("schema",
"train_stats", exercise=3)``): the check looks them up where it was called, so a name an unsolved exercise
never defined gives ``✗ Exercise N: run the exercise cell above first (`schema` is not defined)`` instead of a
NameError before the check could run.

This package holds the shared part (``Verdict``, ``passed``, ``failed``, ``check_failed`` and the plumbing
of a check); the checks live in one module per assignment, and their public names are imported here, so
``from helpers import checks; checks.check_splits(...)`` works for every one of them:

- ``data_validation`` (``C2_W1_Assignment_Data_Validation``): ``check_splits``, ``check_statistics``,
  ``check_schema``, ``check_anomalies_function``, ``check_eval_anomalies_fixed``,
  ``check_serving_statistics``, ``check_domains_modified``, ``check_environments``,
  ``check_skew_and_drift``, ``check_frozen_schema``.
- ``data_pipeline`` (``C2_W3_Assignment_Data_Pipeline``): ``check_feature_selection``,
  ``check_curated_schema``, ``check_transformed_features``, ``check_parent_artifacts``,
  ``check_transform_schema`` (its environments exercise uses ``check_environments``).
- ``feature_engineering`` (``C2_W2_Assignment_Feature_Engineering``, exercises 1-5): ``check_examples``,
  ``check_get_records``, ``check_split_statistics``, ``check_inferred_schema``, ``check_eval_validation``;
  ``feature_transforms`` (its exercises 6-9): ``check_numeric_transforms``, ``check_vocabularies``,
  ``check_label``, ``check_transformed_records``.
- ``transform_run``: ``run_preprocessing``, the small tf.Transform run the transform checks make, and the
  sorting of its failures into the learner's and the check's own.
- ``transformed``: what a z-score, a 0-1 scaling and vocabulary ids must look like, shared by the transform
  checks of C2_W2 and C2_W3.

The shared part, ``core`` (the verdicts and the ``_check`` decorator), also verifies what earlier exercises
made, for the checks of every assignment: statistics that describe given rows (``_describes``), a schema as
TFDV infers it (``_as_inferred``), a file this kernel wrote (``_written_now``).
"""

from .core import Verdict, _calling, _check, check_failed, failed, passed  # noqa: F401 (tests use _check)
from .data_pipeline import *  # noqa: F403
from .data_validation import *  # noqa: F403
from .feature_engineering import *  # noqa: F403
from .feature_transforms import *  # noqa: F403
from .transform_run import *  # noqa: F403
from .transformed import *  # noqa: F403
