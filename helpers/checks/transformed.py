"""What a transformed feature must look like, shared by the transform checks of two assignments: a z-score,
a 0-1 scaling and vocabulary ids, each compared with what pandas computes from the same raw values.

Each function raises ``_Failed`` with what is wrong and a hint, or returns quietly.

Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
"""

from __future__ import annotations

from typing import Any

from .core import _Failed

__all__: list[str] = []


def _numbers(out: Any, raw: Any) -> tuple[Any, Any]:
    import numpy as np

    return np.asarray(out, dtype=float), np.asarray(raw, dtype=float)


def zscore(out: Any, raw: Any, key: str, hint: str) -> None:
    """``out`` is ``raw`` minus its mean, divided by its (population) standard deviation.
    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb."""
    import numpy as np

    x, r = _numbers(out, raw)
    if np.allclose(x, (r - r.mean()) / r.std(), atol=2e-3):
        return
    if np.allclose(x, r, atol=1e-3):
        raise _Failed(f"{key}_xf is the raw {key}, unchanged", hint)
    if x.min() >= -1e-6 and x.max() <= 1 + 1e-6:
        raise _Failed(f"{key}_xf lies within 0-1 (mean {x.mean():.2f}): scaled to 0-1, not z-scored", hint)
    raise _Failed(f"{key}_xf is not the z-score of {key} (mean {x.mean():.3f}, std {x.std():.3f}; a z-score has "
                  "mean 0 and std 1)", hint)


def zero_one(out: Any, raw: Any, key: str, hint: str) -> None:
    """``out`` is ``raw`` scaled so that its minimum becomes 0 and its maximum 1.
    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb."""
    import numpy as np

    x, r = _numbers(out, raw)
    if np.allclose(x, (r - r.min()) / (r.max() - r.min()), atol=2e-3):
        return
    if abs(x.mean()) < 1e-2 and abs(x.std() - 1) < 1e-2:
        raise _Failed(f"{key}_xf has mean 0 and std 1: z-scored, not scaled to 0-1", hint)
    raise _Failed(f"{key}_xf spans {x.min():.3f}..{x.max():.3f}; scaled to 0-1 the minimum of {key} becomes 0 and "
                  "the maximum 1", hint)


def vocabulary(out: Any, raw: Any, key: str, hint: str) -> int:
    """``out`` gives each value of ``raw`` an integer id of its own, from 0 (the most frequent value) up to the
    number of values minus one; returns that number.
    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb."""
    import numpy as np
    import pandas as pd

    if not pd.api.types.is_integer_dtype(np.asarray(out)):
        raise _Failed(f"{key}_xf holds {np.asarray(out).dtype} values, not integer vocabulary ids", hint)
    ids, values = np.asarray(out), np.asarray(raw).astype(str)
    counts = {v: int((values == v).sum()) for v in np.unique(values)}
    mapping = {v: sorted(set(ids[values == v].tolist())) for v in counts}
    if any(len(m) != 1 for m in mapping.values()) or len({m[0] for m in mapping.values()}) != len(counts):
        raise _Failed(f"{key}_xf does not give each {key} value one id of its own", hint)
    if ids.min() < 0 or ids.max() >= len(counts):
        raise _Failed(f"{key}_xf gives seen values the ids {sorted(set(ids.tolist()))[:12]}: some values of the "
                      "analyzed rows have no place in the vocabulary", hint)
    if mapping[max(counts, key=counts.get)][0] != 0:
        raise _Failed(f"the most frequent {key} does not get id 0",
                      "a vocabulary is ordered by frequency; keep its default order and threshold")
    return len(counts)
