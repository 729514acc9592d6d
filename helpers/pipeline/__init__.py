"""Plumbing for a data pipeline built from the real pieces, with its lineage recorded in ML Metadata.

TFX itself is not installable next to TFDV 1.16, so the labs run its steps (ingest, statistics, schema,
validation, transform) as plain TFDV/TFT/Beam calls in the notebook and record what each step read and wrote
in an ML Metadata (MLMD) store, as TFX's orchestrators do. This module holds only the plumbing around those
calls: opening a SQLite store, registering types, recording one finished step with its input and output
artifacts, the lineage queries as DataFrames, and the file conversions (a DataFrame split and written as
tf.Examples, a schema file read with a clear error, a module file imported by path). It runs no step itself.

Nothing heavy is imported at module level: ML Metadata, TensorFlow and the protocol buffers are imported
inside the functions that need them.

Two modules, their public names imported here: ``metadata`` (the ML Metadata store and its queries) and
``files`` (the files the steps exchange).
"""

from .files import *  # noqa: F403
from .metadata import *  # noqa: F403
