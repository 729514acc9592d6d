"""Every dataset the labs use, loaded offline with its provenance checked.

One function per dataset, registered by name: ``load("adult")`` and ``load_adult()`` are the same call.
No loader downloads anything: data ships in this package (vendored under ``helpers/datasets/``, with its
licence) or in a pinned package, and a checksum proves it is the expected copy.

The registry (``load``, ``register``, ``available``, ``require_columns``, the errors, ``read_vendored``)
lives in ``registry``; the loaders live in one module per family. Both are imported here, so every public
name is ``data.<name>``. The loader modules:

- ``census``: UCI Adult (Census Income), its attribute list (``adult.names``) and the TFDV lab's planted rows.
- ``forest``: Covertype-like forest cover rows, generated (seeded): terrain, wilderness, soil, cover type.
- ``images``: MNIST (5,000 digits), Fashion-MNIST (8,000 images), class subsampling.
- ``medical``: Diabetes 130-US hospitals, generated (seeded) with the assignment's planted defects.
- ``molecules``: 197 NCI compounds (shipped with RDKit) as SDF records, with their MMFF94 energies.
- ``rides``: generated NYC-taxi-like rides whose fare grows with distance.
- ``tabular``: Breast Cancer Wisconsin (Diagnostic) with the Kaggle CSV's columns.
- ``text``: the YouTube Spam Collection.
- ``timeseries``: hourly weather (Newark, 2013), smartwatch motions (BasicMotions), hourly bike rentals.
"""

# The loaders, one module per family of datasets (each registers its loaders on import).
from .census import *  # noqa: F403
from .forest import *  # noqa: F403
from .images import *  # noqa: F403
from .medical import *  # noqa: F403
from .molecules import *  # noqa: F403
from .registry import (  # noqa: F401 (re-exported: notebooks call data.load, data.require_columns ...)
    LOADERS,
    DataIntegrityError,
    MissingColumnsError,
    UnknownDatasetError,
    available,
    load,
    read_vendored,
    register,
    require_columns,
)
from .rides import *  # noqa: F403
from .tabular import *  # noqa: F403
from .text import *  # noqa: F403
from .timeseries import *  # noqa: F403
