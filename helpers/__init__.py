"""Shared plumbing for the MLOps Labs notebooks, in three layers:

- **lab plumbing**, the modules and packages at this level (``env``, ``data``, ``validation``, ``checks``,
  ``pipeline``, ``evaluation``, ``modeling``, ``workers``, ``loadtest``, ``autoscale``, ...): what the
  notebooks call. Each function's docstring says which notebook introduced it.
- **services**, in ``helpers.serving``: the processes a notebook starts and talks to over HTTP on 127.0.0.1
  (the FastAPI apps ``wine_service``, ``monitoring_app``, ``autoscale_proxy``, the TF Serving REST server in
  ``serving.tfserving``), with what every service shares: starting and stopping it, and refusing what
  would take it down.
- **the harness**, in ``helpers.harness``: tools for the repository that no notebook imports (the runner,
  the notebook anatomy check, the assignments' learner copies, the grader, the site).

Importing this package is cheap and has no side effects: TensorFlow, TFDV, Beam and the other heavy
libraries are imported inside the functions and submodules that need them. Import a submodule to use it::

    from helpers import env, data, validation
    from helpers.serving import wine_service
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
