import random
import sys

import numpy as np
import pytest

from helpers import env


def test_urls_come_from_one_place():
    path = "course2_data/C2_W1_Lab_1_TFDV.ipynb"
    assert env.github_url(path) == f"https://github.com/{env.REPO}/blob/{env.REF}/{path}"
    assert env.colab_url(path).endswith(f"github/{env.REPO}/blob/{env.REF}/{path}")
    assert env.repo_url() in env.pip_spec()


def test_output_dir_is_created_under_cwd_and_reused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = env.output_dir("Some_Lab")
    (first / "f.txt").write_text("x")
    assert first == tmp_path / "outputs" / "Some_Lab" and first.is_dir()
    assert env.output_dir("Some_Lab") == first  # a re-run does not fail


@pytest.mark.parametrize("bad", ["", "../escape", "a/b", ".."])
def test_output_dir_rejects_paths(bad):
    with pytest.raises(ValueError, match="notebook's name"):
        env.output_dir(bad)


def test_set_seed_makes_python_and_numpy_repeat():
    env.set_seed(7)
    a = (random.random(), np.random.rand())
    env.set_seed(7)
    assert (random.random(), np.random.rand()) == a


@pytest.mark.parametrize("bad", [-1, 1.5, "42", True])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        env.set_seed(bad)


def test_version_report_is_one_line_without_patch_python():
    line = env.version_report(("numpy", "not-a-real-distribution"))
    assert "\n" not in line
    assert line.startswith(f"Python {sys.version_info.major}.{sys.version_info.minor} |")
    assert f"numpy {np.__version__}" in line and "not-a-real" not in line


def test_ci_and_colab_detection(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert env.in_ci()
    monkeypatch.setenv("CI", "false")
    assert not env.in_ci()
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert not env.in_colab()


def _hide(monkeypatch, modules):
    """Make importlib find none of ``modules`` (as if they were not installed)."""
    real = env.importlib.util.find_spec
    monkeypatch.setattr(env.importlib.util, "find_spec", lambda name, *a: None if name in modules else real(name, *a))


def test_every_tfx_library_is_checked(monkeypatch):
    assert list(env.TFX_LIBRARIES) == ["tensorflow_data_validation", "tensorflow_transform", "tfx_bsl",
                                       "ml_metadata", "apache_beam"]
    assert env.missing_tfx_libraries() == []
    for module, dist in env.TFX_LIBRARIES.items():
        with monkeypatch.context() as patch:
            _hide(patch, {module})
            assert env.missing_tfx_libraries() == [dist]
    _hide(monkeypatch, set(env.TFX_LIBRARIES))
    assert env.missing_tfx_libraries() == list(env.TFX_LIBRARIES.values())


def test_require_tfx_on_a_newer_python_says_there_are_no_wheels(monkeypatch):
    _hide(monkeypatch, set(env.TFX_LIBRARIES))
    monkeypatch.setattr(env, "python_version", lambda: (3, 12))
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    with pytest.raises(env.MissingTFXLibraries) as info:
        env.require_tfx()
    message = str(info.value)
    assert message.startswith("This lab needs the TFX libraries, and 5 libraries are missing: "
                              "tensorflow-data-validation, tensorflow-transform, tfx-bsl, ml-metadata, apache-beam.")
    assert "Google Colab runs Python 3.12" in message
    assert "wheels only for Python 3.9-3.11, so pip cannot install them here" in message
    assert "pip install" not in message  # nothing to install on this Python
    assert f"git clone {env.repo_url()} && cd mlops-labs && make lab" in message
    assert "Colab connected to that local runtime" in message
    assert info.value._render_traceback_() == [f"MissingTFXLibraries: {message}"]


def test_require_tfx_on_a_supported_python_says_how_to_install(monkeypatch):
    _hide(monkeypatch, {"tensorflow_data_validation"})
    monkeypatch.setattr(env, "python_version", lambda: (3, 11))
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    with pytest.raises(env.MissingTFXLibraries) as info:
        env.require_tfx()
    message = str(info.value)
    assert message.startswith("This lab needs the TFX libraries, and 1 library is missing: "
                              "tensorflow-data-validation. Why: it is not installed; Python 3.11 is supported")
    assert f'pip install "mlops-labs-helpers[tfx] @ git+{env.repo_url()}@{env.REF}"' in message
    assert "pip install -r requirements.txt" in message and "restart the kernel" in message
    assert "no wheels" not in message and "wheels only" not in message
    assert "make lab" in message and "Colab connected to that local runtime" in message


@pytest.mark.parametrize("python, installable", [((3, 8), False), ((3, 9), True), ((3, 11), True),
                                                 ((3, 12), False), ((3, 13), False)])
def test_tfx_stop_message_follows_the_python_version(python, installable):
    message = env.tfx_stop_message(["tfx-bsl"], python=python)
    assert f"Python {python[0]}.{python[1]}" in message
    assert ("pip install" in message) is installable
    assert ("wheels only for Python 3.9-3.11" in message) is not installable


def test_python_version_is_the_running_one():
    assert env.python_version() == sys.version_info[:2]


def test_require_tfx_passes_in_the_locked_env():
    env.require_tfx()


def test_importing_helpers_imports_no_heavy_library():
    import subprocess

    code = ("import sys, helpers, helpers.env, helpers.data, helpers.validation,"
            " helpers.harness.anatomy, helpers.harness.runner;"
            "heavy = {'tensorflow', 'tensorflow_data_validation', 'apache_beam', 'pandas', 'matplotlib'};"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
