"""Reading what a served model leaves behind: its request log and its Prometheus metrics, and alert rules.

    log = monitoring.parse_request_log(OUT / "requests.jsonl", features=FEATURES)
    log.frame          # one row per logged prediction: request_id, the features, prediction, ...
    log.bad_lines      # the lines set aside, with the reason: nothing is dropped silently
    metrics = monitoring.metrics_frame(requests.get(url + "/metrics").text)
    monitoring.evaluate_alerts(RULES, {"error_rate": 0.07, "drift_anomalies": 3})

Pandas and prometheus_client are imported inside the functions; importing this module is cheap.
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.validation import proto_field

if TYPE_CHECKING:
    import pandas as pd

REQUIRED_KEYS = ("request_id", "features", "prediction")


@dataclass
class RequestLog:
    """A parsed request log: the rows that parsed, the lines set aside, and how many lines there were.

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """

    frame: "pd.DataFrame"
    bad_lines: "pd.DataFrame"
    total_lines: int

    def summary(self) -> str:
        """One line: lines read = rows parsed + lines set aside."""
        return (f"{self.total_lines} log lines = {len(self.frame)} parsed + {len(self.bad_lines)} set aside")


def _check_line(record: object, features: Sequence[str]) -> str | None:
    """Why a decoded log line cannot be used (None when it can)."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        return f"no {', '.join(repr(k) for k in missing)} key"
    if not isinstance(record["features"], dict):
        return f"'features' is a {type(record['features']).__name__}, not an object"
    lacking = [f for f in features if f not in record["features"]]
    if lacking:
        return f"features lack {', '.join(repr(f) for f in lacking)}"
    wrong = [f for f in features if isinstance(record["features"][f], (dict, list))]
    if wrong:
        return f"feature(s) {', '.join(repr(f) for f in wrong)} hold a list or object, not a value"
    return None


def parse_request_log(source: str | os.PathLike | Iterable[str], features: Sequence[str]) -> RequestLog:
    """Parse a JSON-lines request log into a DataFrame, setting aside (with a reason) each line that fails.

    Each line must be a JSON object with ``request_id``, ``prediction`` and ``features`` (an object holding
    every name in ``features``); its other top-level keys (``timestamp``, ``score`` ...) become columns too.
    A line that is not JSON (a write cut short), not an object, or lacks a key is listed in ``bad_lines``
    with its line number (from 1), the reason and its first 80 characters. Rows parsed + lines set aside =
    lines read, always.

    Args:
        source: the log file's path, or its lines (any iterable of strings).
        features: the feature names every line must carry (the model's inputs).

    Raises:
        TypeError: ``features`` is not a sequence of names, or ``source`` yields something else than text.
        FileNotFoundError: the log file does not exist.
        ValueError: the log holds no line at all (no traffic, or the wrong file).

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    import pandas as pd

    if isinstance(features, str) or not all(isinstance(f, str) for f in features) or not features:
        raise TypeError(f"features must be a non-empty list of feature names, got {features!r}")
    name = "the log"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no request log at {str(path)!r}; check the service's log path")
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        name = path.name
    elif isinstance(source, Iterable):
        lines = list(source)
        if not all(isinstance(line, str) for line in lines):
            raise TypeError("source must be a path or an iterable of str lines; decode bytes first")
        lines = [line.rstrip("\n") for line in lines]
    else:
        raise TypeError(f"source must be a path or an iterable of str lines, got {type(source).__name__}")
    if not lines:
        raise ValueError(f"{name} holds no line: did the service receive traffic, and is this its log path?")

    rows, bad = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            bad.append({"line": number, "reason": "an empty line", "text": ""})
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append({"line": number, "reason": f"not JSON ({exc.msg} at character {exc.pos})",
                        "text": line[:80]})
            continue
        reason = _check_line(record, features)
        if reason:
            bad.append({"line": number, "reason": reason, "text": line[:80]})
            continue
        extras = {k: v for k, v in record.items() if k not in REQUIRED_KEYS}
        rows.append({"request_id": record["request_id"], **{f: record["features"][f] for f in features},
                     "prediction": record["prediction"], **extras})
    frame = pd.DataFrame(rows, columns=None if rows else ["request_id", *features, "prediction"])
    bad_lines = pd.DataFrame(bad, columns=["line", "reason", "text"])
    assert len(frame) + len(bad_lines) == len(lines)
    return RequestLog(frame, bad_lines, len(lines))


def metrics_frame(text: str) -> "pd.DataFrame":
    """Prometheus text exposition as a DataFrame: one row per sample (``_created`` timestamps left out).

    Columns: ``metric`` (the family), ``type``, ``sample`` (the series name, e.g. ``..._total``,
    ``..._bucket``), ``labels`` (``k=v`` pairs, sorted, comma-separated) and ``value``. Rows are sorted.

    Raises:
        TypeError: ``text`` is not a str (decode the HTTP body first).
        ValueError: the text is not in Prometheus' format (the parser's message is included).

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    import pandas as pd
    from prometheus_client.parser import text_string_to_metric_families

    if not isinstance(text, str):
        raise TypeError(f"text must be the /metrics body as a str, got {type(text).__name__}")
    rows = []
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                rows.append({"metric": family.name, "type": family.type, "sample": sample.name,
                             "labels": labels, "value": float(sample.value)})
    except ValueError as exc:
        raise ValueError(f"not Prometheus text exposition format: {exc}") from None
    frame = pd.DataFrame(rows, columns=["metric", "type", "sample", "labels", "value"])
    return frame.sort_values(["metric", "sample", "labels"], ignore_index=True)


def metric_value(frame: "pd.DataFrame", sample: str, **labels: str) -> float:
    """The sum of the samples named ``sample`` whose labels include ``labels`` (0.0 when none match a
    known sample, as a counter that has not counted yet).

    Raises:
        KeyError: no sample of that name in the frame (the message lists the names there are).

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    if sample not in set(frame["sample"]):
        raise KeyError(f"no sample named {sample!r}; the metrics have: {sorted(set(frame['sample']))}")
    rows = frame[frame["sample"] == sample]
    wanted = {f"{k}={v}" for k, v in labels.items()}
    keep = rows["labels"].map(lambda text: wanted <= set(text.split(",")) if text else not wanted)
    return float(rows.loc[keep, "value"].sum())


_OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}


@dataclass(frozen=True)
class AlertRule:
    """An alert: fires when ``value_of(metric) <op> threshold``; ``expr`` is the same rule in PromQL.

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """

    name: str
    metric: str
    op: str
    threshold: float
    expr: str
    summary: str
    for_: str = "5m"
    severity: str = "page"

    def __post_init__(self) -> None:
        if self.op not in _OPERATORS:
            raise ValueError(f"op must be one of {sorted(_OPERATORS)}, got {self.op!r}")
        if not isinstance(self.threshold, (int, float)) or isinstance(self.threshold, bool):
            raise TypeError(f"threshold must be a number, got {self.threshold!r}")
        if not self.name or not self.metric:
            raise ValueError("an alert rule needs a name and a metric")


def evaluate_alerts(rules: Sequence[AlertRule], values: Mapping[str, float]) -> "pd.DataFrame":
    """Evaluate each rule on ``values`` (metric name -> number); one row per rule with ``firing``.

    Raises:
        TypeError: a rule is not an ``AlertRule``, or a value is not a number.
        KeyError: a rule names a metric absent from ``values`` (the message lists the known ones): an alert
            on a misspelt metric would otherwise stay silent forever.

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    import pandas as pd

    rows = []
    for rule in rules:
        if not isinstance(rule, AlertRule):
            raise TypeError(f"rules must be AlertRule objects, got {type(rule).__name__}")
        if rule.metric not in values:
            raise KeyError(f"alert {rule.name!r} reads the unknown metric {rule.metric!r}; "
                           f"known metrics: {sorted(values)}")
        value = values[rule.metric]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError(f"the value of {rule.metric!r} must be a number, got {value!r}")
        rows.append({"alert": rule.name, "condition": f"{rule.metric} {rule.op} {rule.threshold:g}",
                     "value": value, "firing": bool(_OPERATORS[rule.op](value, rule.threshold))})
    return pd.DataFrame(rows, columns=["alert", "condition", "value", "firing"])


def alert_rules_yaml(rules: Sequence[AlertRule], group: str = "model-monitoring") -> str:
    """The rules as a Prometheus alerting-rules file (YAML), ready for ``rule_files:`` in prometheus.yml.

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    import yaml

    if not rules:
        raise ValueError("no rules to write; pass at least one AlertRule")
    document = {"groups": [{"name": group, "rules": [
        {"alert": r.name, "expr": r.expr, "for": r.for_, "labels": {"severity": r.severity},
         "annotations": {"summary": r.summary}} for r in rules]}]}
    return yaml.safe_dump(document, sort_keys=False, width=200)  # one line per PromQL expression


def drift_skew_frame(anomalies) -> "pd.DataFrame":
    """The skew or drift measurements TFDV made (``anomalies.drift_skew_info``) as a DataFrame.

    One row per feature and measurement: ``check`` (skew or drift), ``measure`` (``L_INFTY``,
    ``JENSEN_SHANNON_DIVERGENCE`` ...), ``value`` and ``threshold`` (3 decimals) and ``over`` (value above
    threshold). It shows the numbers behind a pass as well as behind an anomaly. Sorted by feature.

    Raises:
        TypeError: ``anomalies`` is not the Anomalies proto ``tfdv.validate_statistics`` returns.

    Introduced in course4_deployment/C4_W4_Lab_1_Monitoring.ipynb.
    """
    import pandas as pd

    rows = []
    for info in proto_field(anomalies, "drift_skew_info", "anomalies",
                            "the Anomalies proto tfdv.validate_statistics returns"):
        feature = ".".join(info.path.step)
        for check, measurements in (("skew", info.skew_measurements), ("drift", info.drift_measurements)):
            for m in measurements:
                rows.append({"feature": feature, "check": check, "measure": type(m).Type.Name(m.type),
                             "value": round(m.value, 3), "threshold": round(m.threshold, 3),
                             "over": m.value > m.threshold})
    frame = pd.DataFrame(rows, columns=["feature", "check", "measure", "value", "threshold", "over"])
    return frame.sort_values(["feature", "check"], ignore_index=True)
