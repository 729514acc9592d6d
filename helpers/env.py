"""Where a notebook runs and how it is set up: Colab/CI detection, paths, seeding, a version report.

Nothing here imports TensorFlow unless asked to (``setup(tensorflow=True)``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import platform
import random
import sys
import warnings
from pathlib import Path

# The one place the repository's address is written. Badges and the Colab bootstrap cell are generated
# from these (``python -m helpers.harness.anatomy``) and a static test checks every notebook against them.
REPO = "mlops-labs/mlops-labs"
REF = "main"
DISTRIBUTION = "mlops-labs-helpers"

TFX_LIBRARIES = {
    # import name -> distribution name, for the message that says how to install them
    "tensorflow_data_validation": "tensorflow-data-validation",
    "tensorflow_transform": "tensorflow-transform",
    "tfx_bsl": "tfx-bsl",
    "ml_metadata": "ml-metadata",
    "apache_beam": "apache-beam",
}

DEFAULT_REPORT = (
    "tensorflow",
    "tensorflow-data-validation",
    "tensorflow-transform",
    "apache-beam",
    "pandas",
    "numpy",
)


def repo_url() -> str:
    """The repository's web address. Defined in helpers/env.py."""
    return f"https://github.com/{REPO}"


def github_url(path: str) -> str:
    """The address of ``path`` (relative to the repository root) on GitHub."""
    return f"{repo_url()}/blob/{REF}/{path}"


def colab_url(path: str) -> str:
    """The address that opens ``path`` (a notebook, relative to the repository root) in Colab."""
    return f"https://colab.research.google.com/github/{REPO}/blob/{REF}/{path}"


def pip_spec() -> str:
    """What the Colab bootstrap cell installs: the helpers distribution from this repository."""
    return f"{DISTRIBUTION} @ git+{repo_url()}@{REF}"


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def in_ci() -> bool:
    """True when run by CI (the ``CI`` variable is set to something other than false/0)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def repo_root() -> Path:
    """The root of the repository checkout that holds this package.

    Raises:
        FileNotFoundError: when the helpers were installed from a wheel (as on Colab) rather than used
            from a checkout.
    """
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "helpers").is_dir():
        return here
    raise FileNotFoundError(
        "helpers is installed as a package, not used from a repository checkout; "
        f"clone {repo_url()} to get the notebooks and tests."
    )


def output_dir(notebook: str) -> Path:
    """Create (if needed) and return ``outputs/<notebook>`` under the current folder.

    Every file a notebook writes goes there; running the notebook again overwrites it. Jupyter, papermill
    and nbval all run a notebook from its own folder, Colab from ``/content``.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    if not notebook or any(sep in notebook for sep in ("/", "\\")) or notebook in (".", ".."):
        raise ValueError(f"output_dir takes a notebook's name such as 'C2_W1_Lab_1_TFDV', got {notebook!r}")
    path = Path.cwd() / "outputs" / notebook
    path.mkdir(parents=True, exist_ok=True)
    return path


def set_seed(seed: int, tensorflow: bool = False) -> None:
    """Seed Python, NumPy and (with ``tensorflow=True``) TensorFlow, with deterministic TF ops."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    if tensorflow:
        import tensorflow as tf

        tf.keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()


def quiet() -> None:
    """Silence the start-up chatter of TensorFlow, absl and Beam at its source.

    Must run before TensorFlow is imported to stop its C++ log lines; ``setup`` calls it first.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # C++ INFO/WARNING/ERROR lines at import
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # the oneDNN notice, and bit-exact CPU results
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("GLOG_minloglevel", "2")
    for name in ("tensorflow", "absl", "apache_beam", "tfx_bsl", "tensorflow_data_validation"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        # A library may lower the level again on import; a filter keeps its warnings out all the same.
        if not any(isinstance(f, _ErrorsOnly) for f in logger.filters):
            logger.addFilter(_ErrorsOnly())
    # Deprecation notices raised inside the pinned libraries (not in lab code), and Google client
    # libraries announcing future Python and grpcio support on import.
    for module in ("apache_beam", "tensorflow_data_validation", "tfx_bsl", "tensorflow_transform",
                   "google", "pyarrow", "tensorflow", "keras", "tf_keras"):
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
        warnings.filterwarnings("ignore", category=FutureWarning, module=module)


class _ErrorsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


def offline_beam() -> None:
    """Stop Interactive Beam from loading jQuery, DataTables and Bootstrap from CDNs into the notebook.

    Any Beam pipeline run in a notebook starts Interactive Beam, which injects ``<script>`` tags that
    fetch those files from the web: offline they fail, and they add volatile output. Labs run Beam
    pipelines, not Interactive Beam's visualisations, so both are switched off.
    """
    from apache_beam.runners.interactive import interactive_environment

    interactive_environment.InteractiveEnvironment.load_jquery_with_datatable = lambda self: None
    interactive_environment.register_ipython_log_handler = lambda: None


def versions(packages: tuple[str, ...] = DEFAULT_REPORT) -> dict[str, str]:
    """Installed versions of ``packages`` (distribution names); the ones not installed are left out."""
    found = {}
    for name in packages:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def version_report(packages: tuple[str, ...] = DEFAULT_REPORT) -> str:
    """One line: Python major.minor and the versions of the packages that matter to a lab."""
    parts = [f"Python {platform.python_version_tuple()[0]}.{platform.python_version_tuple()[1]}"]
    parts += [f"{name} {version}" for name, version in versions(packages).items()]
    return " | ".join(parts)


class MissingTFXLibraries(RuntimeError):
    """Raised by ``require_tfx`` where TFX libraries are missing (Colab's newer Python, or not installed)."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a long traceback
        return [f"MissingTFXLibraries: {self}"]


# The Python versions the TFX libraries (TFDV, TFT, tfx-bsl, ML Metadata 1.16) publish wheels for.
TFX_PYTHONS = ((3, 9), (3, 11))


def python_version() -> tuple[int, int]:
    """The (major, minor) version of the running interpreter."""
    return sys.version_info.major, sys.version_info.minor


def missing_tfx_libraries() -> list[str]:
    """Distribution names of the TFX libraries (``TFX_LIBRARIES``) that cannot be imported here.

    Each is looked up with ``importlib.util.find_spec``, which finds a module without importing it.
    """
    return [dist for module, dist in TFX_LIBRARIES.items() if importlib.util.find_spec(module) is None]


def tfx_stop_message(missing: list[str], python: tuple[int, int] | None = None) -> str:
    """What ``require_tfx`` says: which TFX libraries are missing, why on this Python, how to run the lab."""
    major, minor = python or python_version()
    low, high = TFX_PYTHONS
    where = "Google Colab" if in_colab() else "this environment"
    one = len(missing) == 1
    what = (f"This lab needs the TFX libraries, and {len(missing)} "
            f"{'library is' if one else 'libraries are'} missing: {', '.join(missing)}.")
    if not low <= (major, minor) <= high:
        why = (f"Why: {where} runs Python {major}.{minor}, and TFDV, TFT, tfx-bsl and ML Metadata publish "
               f"wheels only for Python {low[0]}.{low[1]}-{high[0]}.{high[1]}, so pip cannot install them here.")
    else:
        extra = pip_spec().replace(DISTRIBUTION, f"{DISTRIBUTION}[tfx]", 1)
        why = (f"Why: {'it is' if one else 'they are'} not installed; Python {major}.{minor} is supported, so "
               f'install {"it" if one else "them"} with `pip install "{extra}"` (in a checkout: '
               "`pip install -r requirements.txt`, the tested lock) and restart the kernel.")
    run = (f"To run the lab: `git clone {repo_url()} && cd {REPO.split('/')[1]} && make lab` on a machine "
           f"with Python {high[0]}.{high[1]} (JupyterLab on the locked environment), or Colab connected to "
           "that local runtime (Connect > Connect to a local runtime).")
    return f"{what} {why} {run}"


def require_tfx() -> None:
    """Stop with a clear message, and the way to run the lab, when any TFX library is missing.

    Checks each of ``TFX_LIBRARIES`` (tensorflow_data_validation, tensorflow_transform, tfx_bsl,
    ml_metadata, apache_beam); the message says which are missing and why, for the running Python.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    missing = missing_tfx_libraries()
    if missing:
        raise MissingTFXLibraries(tfx_stop_message(missing))


def setup(seed: int = 42, tensorflow: bool = False, beam: bool = False,
          report: tuple[str, ...] = DEFAULT_REPORT) -> None:
    """The set-up every notebook calls first: quiet logs, seed everything, print one version line.

    Args:
        seed: seeds Python, NumPy and, with ``tensorflow=True``, TensorFlow (with deterministic ops).
        tensorflow: import TensorFlow now (after its logs are quieted) and seed it.
        beam: the notebook runs Beam pipelines; keep Interactive Beam offline (``offline_beam``).
        report: the distributions whose versions the one-line report names.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    quiet()
    if beam:
        offline_beam()
    set_seed(seed, tensorflow=tensorflow)
    print(version_report(report))
