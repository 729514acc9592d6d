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


def test_require_tfx_names_what_is_missing_and_the_fix(monkeypatch):
    real = env.importlib.util.find_spec
    monkeypatch.setattr(env.importlib.util, "find_spec",
                        lambda name: None if name == "tensorflow_data_validation" else real(name))
    with pytest.raises(env.MissingTFXLibraries) as info:
        env.require_tfx()
    message = str(info.value)
    assert "tensorflow-data-validation" in message and "make lab" in message and env.repo_url() in message
    assert info.value._render_traceback_() == [f"MissingTFXLibraries: {message}"]


def test_require_tfx_passes_in_the_locked_env():
    env.require_tfx()


def test_importing_helpers_imports_no_heavy_library():
    import subprocess

    code = ("import sys, helpers, helpers.env, helpers.data, helpers.validation, helpers.anatomy, helpers.runner;"
            "heavy = {'tensorflow', 'tensorflow_data_validation', 'apache_beam', 'pandas', 'matplotlib'};"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
