"""What the data-validation labs need beyond TFDV itself: tables and plots that work offline.

TFDV's ``visualize_statistics`` draws with Facets, which loads its JavaScript from the web, so it shows
nothing offline and nothing on GitHub. These functions read the same statistics protos and render them
as pandas tables and matplotlib figures (``plot_value_range`` reads the rows themselves, to show the few
out-of-range values a histogram of thousands hides). TFDV is imported lazily: these functions take its
protos, and importing this module imports neither TFDV nor Beam.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from helpers.arguments import whole

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def _datasets(stats, what: str):
    """The list of per-dataset statistics inside a DatasetFeatureStatisticsList, checked."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    if not isinstance(stats, statistics_pb2.DatasetFeatureStatisticsList):
        raise TypeError(
            f"{what} takes the statistics TFDV returns (a DatasetFeatureStatisticsList), "
            f"got {type(stats).__name__}"
        )
    if not stats.datasets:
        raise ValueError(f"{what} got statistics with no dataset in them; were they generated from empty data?")
    return stats.datasets


def proto_field(value: object, field: str, name: str, what: str) -> Any:
    """``value.<field>``: the repeated field a table is read from, or ``TypeError`` when ``value`` is not
    the proto that has it (``name`` must be ``what``, got its type).

    Introduced in course3_modeling/C3_W4_Lab_1_Model_Analysis.ipynb (shared by the tables read from TFMA's
    validation result and from TFDV's drift and skew measurements).
    """
    if not hasattr(value, field):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return getattr(value, field)


def _feature_name(feature) -> str:
    return ".".join(feature.path.step) if feature.path.step else feature.name


def _features(stats, what: str) -> dict:
    """Feature name -> FeatureNameStatistics of the first (or only) dataset."""
    return {_feature_name(f): f for f in _datasets(stats, what)[0].features}


def _require_features(available: dict, wanted: Sequence[str], what: str) -> None:
    missing = [f for f in wanted if f not in available]
    if missing:
        raise KeyError(f"{what}: no statistics for feature(s) {missing}; the statistics have: {sorted(available)}")


def anomalies_frame(anomalies) -> "pd.DataFrame":
    """TFDV's anomalies as a DataFrame, one row per feature, sorted by feature name.

    ``tfdv.display_anomalies`` shows the same table in the order of a protobuf map, which can change
    from run to run; sorted, the table can be compared and tested.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    from tensorflow_data_validation.utils.display_util import get_anomalies_dataframe

    return get_anomalies_dataframe(anomalies).sort_index()


def statistics_frame(stats, kind: str | None = None) -> "pd.DataFrame":
    """One row per feature with the overview numbers Facets shows (first dataset of ``stats``).

    Args:
        stats: a DatasetFeatureStatisticsList from ``tfdv.generate_statistics_*``.
        kind: ``"numeric"`` or ``"categorical"`` to keep only those features; ``None`` keeps both.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import pandas as pd

    if kind not in (None, "numeric", "categorical"):
        raise ValueError(f"kind must be 'numeric', 'categorical' or None, got {kind!r}")
    rows = []
    for name, f in _features(stats, "statistics_frame").items():
        if f.HasField("num_stats") and kind != "categorical":
            n, common = f.num_stats, f.num_stats.common_stats
            total = common.num_non_missing + common.num_missing
            rows.append({
                "feature": name, "type": "numeric", "count": common.num_non_missing,
                "missing %": round(100 * common.num_missing / total, 2) if total else 0.0,
                "mean": n.mean, "std": n.std_dev, "zeros %": round(100 * n.num_zeros / total, 2) if total else 0.0,
                "min": n.min, "median": n.median, "max": n.max,
            })
        elif f.HasField("string_stats") and kind != "numeric":
            s, common = f.string_stats, f.string_stats.common_stats
            total = common.num_non_missing + common.num_missing
            top = s.top_values[0] if s.top_values else None
            rows.append({
                "feature": name, "type": "categorical", "count": common.num_non_missing,
                "missing %": round(100 * common.num_missing / total, 2) if total else 0.0,
                "unique": s.unique, "top": top.value if top else "",
                "top freq %": (round(100 * top.frequency / common.num_non_missing, 2)
                               if top and common.num_non_missing else 0.0),
                "avg length": round(s.avg_length, 2),
            })
    frame = pd.DataFrame(rows)
    return frame.set_index("feature") if not frame.empty else frame


def compare_statistics(lhs, rhs, lhs_name: str = "train", rhs_name: str = "eval",
                       kind: str = "numeric") -> "pd.DataFrame":
    """Two datasets' overview numbers side by side, one row per feature, the two names as column groups.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import pandas as pd

    if lhs_name == rhs_name:
        raise ValueError(f"the two datasets need different names, got {lhs_name!r} twice")
    left, right = statistics_frame(lhs, kind), statistics_frame(rhs, kind)
    both = pd.concat({lhs_name: left.drop(columns="type"), rhs_name: right.drop(columns="type")}, axis=1)
    both = both.swaplevel(axis=1)
    order = [c for c in left.columns if c != "type"]
    return both.reindex(columns=pd.MultiIndex.from_product([order, [lhs_name, rhs_name]]))


def value_frequencies(stats, feature: str) -> "pd.Series":
    """The relative frequency of each value of a categorical feature (from its rank histogram)."""
    import pandas as pd

    features = _features(stats, "value_frequencies")
    _require_features(features, [feature], "value_frequencies")
    f = features[feature]
    if not f.HasField("string_stats"):
        raise ValueError(f"{feature!r} is numeric; value_frequencies is for categorical features")
    count = f.string_stats.common_stats.num_non_missing
    buckets = f.string_stats.rank_histogram.buckets
    return pd.Series({b.label: b.sample_count / count for b in buckets}, name=feature, dtype=float)


def new_values(lhs, rhs, feature: str) -> list[str]:
    """The values of a categorical feature that appear in ``rhs`` but never in ``lhs``, sorted."""
    return sorted(set(value_frequencies(rhs, feature).index) - set(value_frequencies(lhs, feature).index))


def _missing_share(feature) -> float:
    stats = feature.num_stats if feature.HasField("num_stats") else feature.string_stats
    common = stats.common_stats
    total = common.num_non_missing + common.num_missing
    return common.num_missing / total if total else 0.0


def plot_statistics(lhs, rhs, features: Sequence[str], lhs_name: str = "train", rhs_name: str = "eval",
                    top_k: int = 8, columns: int = 3, log: bool = False,
                    units: Mapping[str, str] | None = None) -> "Figure":
    """Small multiples comparing two datasets, feature by feature: the offline stand-in for Facets.

    Numeric features show both distributions as step histograms (fraction of rows per bucket);
    categorical ones show the ``top_k`` most frequent values of ``lhs``, anything ``rhs`` adds (marked
    "new") and, when either dataset has missing values, a "(missing)" bar; fractions are of all rows.

    Args:
        log: fractions on a log scale (like Facets' "log" box), so that a value held by one row in
            thousands, which is invisible on a linear scale, shows.
        units: feature name -> unit for the x label of numeric features (e.g. ``{"age": "years"}``).

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if not features:
        raise ValueError("plot_statistics needs at least one feature name")
    left, right = _features(lhs, "plot_statistics"), _features(rhs, "plot_statistics")
    _require_features(left, features, f"plot_statistics ({lhs_name})")
    _require_features(right, features, f"plot_statistics ({rhs_name})")
    units = dict(units or {})
    rows = -(-len(features) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.2 * rows), squeeze=False)
    colours = {lhs_name: "tab:blue", rhs_name: "tab:orange"}
    fraction = "fraction of rows (log scale)" if log else "fraction of rows"
    for ax, name in zip(axes.flat, features):
        if left[name].HasField("num_stats"):
            for label, f in ((lhs_name, left[name]), (rhs_name, right[name])):
                hist = next(h for h in f.num_stats.histograms if h.type == h.STANDARD)
                edges = [b.low_value for b in hist.buckets] + [hist.buckets[-1].high_value]
                counts = np.array([b.sample_count for b in hist.buckets])
                ax.stairs(counts / counts.sum(), edges, label=f"{label} (max {f.num_stats.max:,.0f})",
                          color=colours[label], linewidth=1.6)
            maxima = sorted(abs(f.num_stats.max) for f in (left[name], right[name]))
            if maxima[0] > 0 and maxima[1] > 100 * maxima[0]:  # an outlier would squash the other split
                ax.set_xscale("symlog")
            if log:
                ax.set_yscale("log")
            ax.set_xlabel(f"{name} ({units.get(name, 'value')})")
            ax.set_ylabel(fraction)
        else:
            shares = []
            for stats, f in ((lhs, left[name]), (rhs, right[name])):
                missing = _missing_share(f)
                share = value_frequencies(stats, name) * (1 - missing)  # of all rows, missing included
                if missing:
                    share["(missing)"] = missing
                shares.append(share)
            lf, rf = shares
            known = set(value_frequencies(lhs, name).index)
            shown = ([v for v in lf.index if v != "(missing)"][:top_k]
                     + [v for v in rf.index if v not in known and v != "(missing)"]
                     + (["(missing)"] if "(missing)" in lf.index or "(missing)" in rf.index else []))
            y = np.arange(len(shown))
            ax.barh(y - 0.2, [lf.get(v, 0) for v in shown], 0.4, label=lhs_name, color=colours[lhs_name])
            ax.barh(y + 0.2, [rf.get(v, 0) for v in shown], 0.4, label=rhs_name, color=colours[rhs_name])
            ax.set_yticks(y, [v if v in known or v == "(missing)" else f"{v} (new)" for v in shown], fontsize=8)
            ax.invert_yaxis()
            if log:
                ax.set_xscale("log")
            ax.set_xlabel(fraction)
        ax.set_title(name)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(features):]:
        ax.set_visible(False)
    fig.suptitle(f"{lhs_name} vs {rhs_name}: feature distributions")
    fig.tight_layout()
    return fig


def plot_value_range(samples: Mapping[str, Sequence[float]], low: float, high: float, feature: str,
                     unit: str = "", bins: int = 100) -> "Figure":
    """Where a numeric feature's values fall against its valid range ``[low, high]``, split by split.

    A histogram of thousands of rows on a linear scale hides a handful of absurd values: here the counts
    are on a log scale (one row is as visible as ten thousand), the x axis spans every value, the valid
    range is shaded, and each split's out-of-range values are drawn as a rug of ticks along the bottom
    and counted in the legend.

    Args:
        samples: split name -> the feature's values (a Series, list or array; missing values are skipped).
        low, high: the valid range, inclusive (e.g. the ``IntDomain`` a schema gives the feature).
        feature: the feature's name, for the title and the x label; ``unit`` is appended to the x label.
        bins: how many equal-width bins span the whole range of the values.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    if not isinstance(samples, Mapping) or not samples:
        raise TypeError("plot_value_range takes a dict of split name -> values, e.g. {'train': df['age']}, "
                        f"got {type(samples).__name__ if not isinstance(samples, Mapping) else 'an empty dict'}")
    if not low < high:
        raise ValueError(f"the valid range needs low < high, got low={low!r}, high={high!r}")
    whole("bins", bins)
    values = {}
    for name, v in samples.items():
        series = pd.to_numeric(pd.Series(v), errors="coerce").dropna()
        if series.empty:
            raise ValueError(f"split {name!r} has no numeric {feature} values to plot")
        values[name] = series
    lo = min(low, *(s.min() for s in values.values()))
    hi = max(high, *(s.max() for s in values.values()))
    edges = np.linspace(lo, hi + (hi - lo) / bins, bins + 1)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.axvspan(low, high, color="tab:green", alpha=0.12, label=f"valid range {low:g} to {high:g}")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, series) in enumerate(values.items()):
        colour = colours[i % len(colours)]
        counts, _ = np.histogram(series, edges)
        outside = series[(series < low) | (series > high)]
        ax.stairs(counts, edges, color=colour, linewidth=1.6,
                  label=f"{name}: {len(series):,} rows, {len(outside):,} outside the range")
        if len(outside):
            ax.plot(outside, np.full(len(outside), 0.6), "|", color=colour, markersize=14, markeredgewidth=2.5)
            for value, count in sorted(outside.value_counts().items())[:6]:
                ax.annotate(f"{value:g} ({count:,} {name} row{'s' if count > 1 else ''})", (value, 0.6),
                            xytext=(0, 22), textcoords="offset points", ha="center", fontsize=8,
                            color=colour, arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.8})
    ax.set_yscale("log")
    ax.set_ylim(0.4, None)
    ax.set_xlabel(f"{feature} ({unit})" if unit else feature)
    ax.set_ylabel("rows per bin (log scale)")
    width = f"{(hi - lo) / bins:.3g}" + (f" {unit}" if unit else "")
    ax.set_title(f"{feature}: every value against the valid range (bins of {width}, counts on a log scale)")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
