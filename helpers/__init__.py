"""Shared plumbing for the MLOps Labs notebooks.

Importing this package is cheap and has no side effects: TensorFlow, TFDV, Beam and the other heavy
libraries are imported inside the functions and submodules that need them. Import a submodule to use it::

    from helpers import env, data, validation
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
