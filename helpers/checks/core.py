"""What every check shares: the ``Verdict``, the ``_check`` decorator that turns any state of the kernel into a
verdict, the lookups of a name the exercise should have defined, and the verifications of what earlier
exercises made (``_describes``, ``_as_inferred``, ``_written_now``).

``helpers.checks`` re-exports the public part; the check modules import it from here.

Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
"""


from __future__ import annotations

import contextlib
import functools
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """The result of one check: passed or not, and the line(s) a learner reads."""

    exercise: int
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    __repr__ = __str__


def passed(exercise: int, detail: str = "") -> Verdict:
    """A passing verdict: ``✓ Exercise N passed`` and what was checked."""
    return Verdict(exercise, True, f"✓ Exercise {exercise} passed" + (f": {detail}" if detail else ""))


def failed(exercise: int, problem: str, hint: str = "") -> Verdict:
    """A failing verdict: what is wrong, and a hint towards the fix."""
    return Verdict(exercise, False, f"✗ Exercise {exercise}: {problem}" + (f"\n  Hint: {hint}" if hint else ""))


def check_failed(exercise: int, what: str, hint: str = "") -> Verdict:
    """A verdict for a check that could not do its job: not passed, and not the learner's mistake either."""
    return Verdict(exercise, False, f"⚠ Exercise {exercise}: the check itself failed ({what}); this is not a "
                                    "mistake in your code" + (f"\n  Hint: {hint}" if hint else ""))


class _Failed(Exception):
    """Raised inside a check to stop at the first problem found; turned into a failing verdict."""

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(problem)
        self.problem, self.hint = problem, hint


class _Broken(Exception):
    """Raised inside a check when something outside the learner's code failed (a Beam job, say)."""

    def __init__(self, what: str, hint: str = "") -> None:
        super().__init__(what)
        self.what, self.hint = what, hint


def _one_line(error: BaseException, limit: int = 300) -> str:
    """``Type: first line of the message``, shortened: how a verdict names an exception."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")[:limit]


def _where(error: BaseException) -> str:
    """The file and line of helpers.checks where ``error`` was raised, for a report."""
    import traceback

    frames = [f for f in traceback.extract_tb(error.__traceback__)[1:] if "/checks/" in f.filename.replace("\\", "/")]
    return f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""


def _check(func: Callable[..., str] | None = None, *, names: Sequence[str] = ()) -> Any:
    """Turn a function that returns a pass detail (or raises ``_Failed``) into a check giving a Verdict.

    ``_Failed`` is the learner's problem (``✗``); ``_Broken`` and any other exception escaping the check are
    the check's own (``⚠ the check itself failed``): learner code that a check calls runs inside
    ``_calling``, which turns its exceptions into ``_Failed``. A parameter listed in ``names`` may be given
    the *name* of a variable (``"train_df"``), or a short expression (``'stats["train"]'``), instead of its
    value: the check evaluates it in the namespace of the cell that called it, so a name an unsolved exercise
    never defined is a verdict, not a NameError.
    """
    if func is None:
        return functools.partial(_check, names=names)

    import inspect

    signature = inspect.signature(func)

    @functools.wraps(func)
    def run(*args: Any, exercise: int, **kwargs: Any) -> Verdict:
        caller = inspect.currentframe().f_back  # type: ignore[union-attr]
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            return check_failed(exercise, f"the check cell calls it wrongly ({error})", "restore the check cell")
        for param in names:
            value = bound.arguments.get(param)
            if isinstance(value, str):
                try:
                    bound.arguments[param] = _lookup(value, caller)
                except _Failed as missing:
                    return failed(exercise, missing.problem, missing.hint)
        del caller
        try:
            return passed(exercise, func(*bound.args, **bound.kwargs))
        except _Failed as problem:
            return failed(exercise, problem.problem, problem.hint)
        except _Broken as broken:
            return check_failed(exercise, broken.what, broken.hint)
        except Exception as error:  # a bug of the check: say so, instead of blaming the learner's code
            return check_failed(exercise, _one_line(error) + _where(error),
                                "re-run this cell; if it fails the same way, report this message")

    return run


def _kernel_start() -> float:
    """When this Python process started: a file older than that was written by an earlier run."""
    try:
        import psutil

        return psutil.Process().create_time()
    except Exception:  # no psutil: the time helpers.checks was imported (the Setup cell) is close enough
        return _IMPORTED


_IMPORTED = time.time()


def _lookup(expression: str, frame: Any) -> Any:
    """The value of a name (or a short expression such as ``stats["train"]``) in the namespace of ``frame``,
    the check cell that called a check; a name not defined yet is the learner's verdict."""
    hint = "run the notebook's cells in order from the top; the exercise cells up to this one define what this " \
           "check needs"
    try:
        return eval(expression, frame.f_globals, frame.f_locals)  # the check cell's own text, restored by the grader
    except NameError as error:
        name = getattr(error, "name", None) or expression
        raise _Failed(f"run the exercise cell above first (`{name}` is not defined)", hint) from None
    except Exception as error:
        raise _Failed(f"run the exercise cell above first (`{expression}` gave {_one_line(error, 120)})", hint) \
            from None


def _frame(value: Any, name: str) -> Any:
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise _Failed(f"{name} should be a pandas DataFrame, got {type(value).__name__}")
    if value.empty:
        raise _Failed(f"{name} is empty (0 rows)", "check the slicing that produced it")
    return value


def _stats(value: Any, name: str) -> Any:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    if not isinstance(value, statistics_pb2.DatasetFeatureStatisticsList):
        raise _Failed(f"{name} should be the statistics TFDV returns (a DatasetFeatureStatisticsList), "
                      f"got {type(value).__name__}", "use tfdv.generate_statistics_from_dataframe(...)")
    if not value.datasets or value.datasets[0].num_examples == 0:
        raise _Failed(f"{name} describe no examples", "generate them from a split that has rows")
    return value.datasets[0]


def _schema(value: Any, name: str = "schema") -> Any:
    from tensorflow_metadata.proto.v0 import schema_pb2

    if not isinstance(value, schema_pb2.Schema):
        raise _Failed(f"{name} should be a TFDV Schema protocol buffer, got {type(value).__name__}",
                      "tfdv.infer_schema(statistics=...) returns one")
    return value


def _describes(stats: Any, rows: Any, name: str, split: str, hint: str, origin: str = "") -> Any:
    """``stats`` describe exactly ``rows``: their count and every numeric mean (recomputed with pandas), or
    fail with ``hint``, which names the exercise that made them."""
    dataset = _stats(stats, name)
    if dataset.num_examples != len(rows):
        raise _Failed(f"{name} describe {dataset.num_examples:,} examples; the {split} split{origin} has "
                      f"{len(rows):,}", hint)
    for feature in dataset.features:
        column = ".".join(feature.path.step) or feature.name
        if feature.HasField("num_stats") and column in rows.columns:
            expected = float(rows[column].mean())
            if abs(feature.num_stats.mean - expected) > 1e-6 * max(1.0, abs(expected)):
                raise _Failed(f"{name} do not describe the {split} split: the mean of {column!r} is "
                              f"{feature.num_stats.mean:.4g}, the {split} rows give {expected:.4g}", hint)
    return dataset


def _as_inferred(schema: Any, train_stats: Any, source: str = "the training statistics") -> Any:
    """``schema`` is what ``tfdv.infer_schema`` makes of ``train_stats``, unedited; returns it."""
    import tensorflow_data_validation as tfdv

    schema = _schema(schema)
    reference = tfdv.infer_schema(statistics=train_stats)
    if len(schema.feature) != len(reference.feature):
        raise _Failed(f"the schema has {len(schema.feature)} features; the training statistics have "
                      f"{len(reference.feature)}", "infer it from the training statistics")
    if schema != reference:
        differ = sorted(f.name for f, g in zip(schema.feature, reference.feature) if f != g)
        domains = sorted({d.name for d in schema.string_domain} ^ {d.name for d in reference.string_domain} |
                         {d.name for d, e in zip(schema.string_domain, reference.string_domain) if d != e})
        what = _listing(differ[:5]) if differ else f"the values of the domain(s) {_listing(domains[:5])}" \
            if domains else "its settings"
        raise _Failed(f"the schema differs from the one inferred from {source} ({what})",
                      "infer it from the training statistics only, and do not edit it yet")
    return schema


def _written_now(path: Any, what: str, hint: str) -> None:
    """``path`` was written by this kernel, not left by an earlier run."""
    if Path(path).stat().st_mtime < _kernel_start() - 1:
        raise _Failed(f"{what} was written before this kernel started: an earlier run left it", hint)


def _feature_names(dataset: Any) -> list[str]:
    return [".".join(f.path.step) if f.path.step else f.name for f in dataset.features]


def _anomalous(anomalies: Any) -> list[str]:
    return sorted(anomalies.anomaly_info)


def _listing(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


@contextlib.contextmanager
def _quiet():
    """Swallow what a learner's function displays while a check calls it."""
    try:
        from IPython.utils.capture import capture_output
    except ImportError:  # pragma: no cover - IPython is always there in a notebook
        capture_output = None
    with contextlib.redirect_stdout(io.StringIO()):
        if capture_output is None:
            yield
        else:
            with capture_output():
                yield


@contextlib.contextmanager
def _calling(name: str):
    """Run learner code quietly; an exception it raises becomes the learner's verdict, naming ``name``."""
    try:
        with _quiet():
            yield
    except NotImplementedError as error:
        raise _Failed(f"{name} still raises NotImplementedError ({error})",
                      "replace the stub with your code, run that cell, then this one") from None
    except Exception as error:
        raise _Failed(f"calling {name} raised {_one_line(error)}",
                      "fix what the error names, re-run the exercise's cell, then this one") from None
