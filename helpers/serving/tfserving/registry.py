"""The served models of this project's TF Serving server (``helpers.serving.tfserving.app``): every version a
model config asks for, loaded once, and the lookup of the servable a request names.

Used by the server at start-up and by ``helpers.serving.tfserving.reload`` when the config changes while it
runs. TensorFlow is imported when the models load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from helpers.serving.tfserving import tensors as tj
from helpers.serving.tfserving.client import version_folders

log = logging.getLogger("uvicorn.error")


@dataclass
class Servable:
    """One loaded version of a model: its SavedModel object and its signature defs (protos).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    name: str
    version: int
    loaded: object
    signature_defs: dict = field(repr=False)
    path: str = ""


class Registry:
    """The served models: ``{name: {version: Servable}}`` and ``{name: {label: version}}``.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    def __init__(self, models: dict[str, dict[int, Servable]], labels: dict[str, dict[str, int]]):
        self.models = models
        self.labels = labels

    def resolve(self, name: str, version: str | None, label: str | None) -> Servable:
        """The servable a request names (TF Serving's errors: 404 not found, 400 unknown label)."""
        versions = self.models.get(name, {})
        if label is not None:
            if label not in self.labels.get(name, {}):
                raise tj.invalid(f"Unrecognized servable version label: {label}")
            version = str(self.labels[name][label])
        if version is None:
            if not versions:
                raise tj.not_found(f"Servable not found for request: Latest({name})")
            return versions[max(versions)]
        number = _version_number(version)
        if number not in versions:
            raise tj.not_found(f"Servable not found for request: Specific({name}, {number})")
        return versions[number]

    def status(self, name: str, version: str | None, label: str | None) -> dict:
        """The ``GetModelStatusResponse`` JSON of one model (all versions, or the one asked for)."""
        if not name:
            raise tj.invalid("Missing model name in request.")
        versions = self.models.get(name, {})
        if label is not None:
            if label not in self.labels.get(name, {}):
                raise tj.invalid(f"Unrecognized servable version label: {label}")
            version = str(self.labels[name][label])
        if version is not None:
            number = _version_number(version)
            if number not in versions:
                raise tj.not_found(f"Could not find version {number} of model {name}")
            chosen = [number]
        elif not versions:
            raise tj.not_found(f"Could not find any versions of model {name}")
        else:
            chosen = sorted(versions, reverse=True)
        return {"model_version_status": [
            {"version": str(v), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            for v in chosen]}


def _version_number(text: str) -> int:
    number = int(text)
    if number > 2**63 - 1:
        raise tj.invalid(f"Failed to convert version: {text} to numeric.")
    return number


def load_registry(configs: list, reuse: dict | None = None) -> Registry:
    """Load every version each model config asks for (TF Serving's version policies), once; ``reuse`` maps
    ``(name, version folder)`` to a ``Servable`` already loaded (a config reload keeps those).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    models: dict[str, dict[int, Servable]] = {}
    labels: dict[str, dict[str, int]] = {}
    for config in configs:
        base = Path(config.base_path)
        folders = version_folders(base) if base.is_dir() else {}
        found = sorted(folders)
        if not found:
            raise RuntimeError(f"No versions of servable {config.name} found under base path {base}")
        kind, arg = config.version_policy
        if kind == "latest":
            wanted = found[-arg:]
        elif kind == "all":
            wanted = found
        else:
            missing = sorted(set(arg) - set(found))
            if missing:
                raise RuntimeError(f"model {config.name}: version(s) {missing} of the specific version policy "
                                   f"are not under base path {base} (found {found})")
            wanted = list(arg)
        models[config.name] = {}
        for version in wanted:
            path = folders[version]  # the folder's own name: 00000123 is version 123
            if (config.name, str(path)) in (reuse or {}):
                models[config.name][version] = reuse[(config.name, str(path))]
                continue
            proto = saved_model_pb2.SavedModel()
            proto.ParseFromString((path / "saved_model.pb").read_bytes())
            graphs = [g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags] or list(proto.meta_graphs)
            loaded = tf.saved_model.load(str(path))
            models[config.name][version] = Servable(config.name, version, loaded, dict(graphs[0].signature_def),
                                                    str(path))
            log.info("Successfully loaded servable version {name: %s version: %d}", config.name, version)
        for version in config.version_labels.values():
            if version not in models[config.name]:
                raise RuntimeError(f"Request to assign label to version {version} of model {config.name}, "
                                   "which is not currently available for inference")
        labels[config.name] = dict(config.version_labels)
    return Registry(models, labels)
