"""Unit tests of helpers.plots.correlation_heatmap: every coefficient written in its cell, bad input refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import plots


@pytest.fixture()
def corr() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "c"])
    frame["d"] = frame["a"] * 2 + rng.normal(scale=0.1, size=50)
    return frame.corr()


def test_heatmap_writes_every_coefficient(corr):
    fig = plots.correlation_heatmap(corr, "a title")
    try:
        ax = fig.axes[0]
        texts = [t.get_text() for t in ax.texts]
        assert len(texts) == 16 and texts.count("1.00") >= 4
        assert f"{corr.loc['a', 'd']:.2f}" in texts
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
        assert ax.get_title() == "a title" and ax.get_xlabel() == "feature"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("bad, message", [
    (pd.DataFrame(), "non-empty DataFrame"),
    ([[1.0]], "non-empty DataFrame"),
    (pd.DataFrame([[1.0, 0.5]], columns=["a", "b"]), "square"),
    (pd.DataFrame([[1.0, 3.0], [3.0, 1.0]], columns=["a", "b"], index=["a", "b"]), "outside -1..1"),
])
def test_heatmap_rejects_what_is_no_correlation_matrix(bad, message):
    with pytest.raises(ValueError, match=message):
        plots.correlation_heatmap(bad, "x")
