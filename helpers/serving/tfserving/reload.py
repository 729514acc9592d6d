"""The model config of this project's TF Serving server (``helpers.serving.tfserving.app``): read from the
environment at start-up, and re-read while the server runs, as ``tensorflow_model_server
--model_config_file_poll_wait_seconds=N`` does.

With ``TFSERVING_MODEL_CONFIG_FILE_POLL_WAIT_SECONDS`` set to N > 0, the server re-reads its
``TFSERVING_MODEL_CONFIG_FILE`` every N seconds. When the text changed it loads the new config (versions
already loaded are kept, new ones loaded, those no longer named unloaded, labels moved) and swaps it in
at once, without a restart; requests in flight finish on the config they started with. As in TF Serving,
a reload may point a label only at a version that is already loaded (without
``--allow_version_labels_for_unavailable_models``, which this server does not offer): a new version is
served by one config change and labelled by a second one. A config that does not parse or load (a label
on a version not loaded, a missing version folder) is logged and the server keeps serving the previous
one. (The real server would still load the new config's versions in that case and only refuse the labels.)
The log lines use TF Serving's wording (``Adding/updating models.``, ``PollFilesystemAndReloadConfig failed
to ReloadConfig: ...``); the lines TF Serving would not write start with ``OWN``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from helpers.serving.tfserving.client import ModelConfig, parse_model_config, read_model_config
from helpers.serving.tfserving.registry import Registry, load_registry

log = logging.getLogger("uvicorn.error")

CONFIG_ENV = "TFSERVING_MODEL_CONFIG_FILE"
POLL_ENV = "TFSERVING_MODEL_CONFIG_FILE_POLL_WAIT_SECONDS"
OWN = "[this server's own note, not a TF Serving log line]"  # marks the lines TF Serving would not write


def configs_from_env() -> list:
    """The model configs named by ``TFSERVING_MODEL_CONFIG_FILE`` or ``TFSERVING_MODEL_NAME``/``..._BASE_PATH``.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    config_file = os.environ.get(CONFIG_ENV)
    if config_file:
        return read_model_config(config_file)
    name, base = os.environ.get("TFSERVING_MODEL_NAME"), os.environ.get("TFSERVING_MODEL_BASE_PATH")
    if not name or not base:
        raise RuntimeError("set TFSERVING_MODEL_CONFIG_FILE, or TFSERVING_MODEL_NAME and TFSERVING_MODEL_BASE_PATH")
    return [ModelConfig(name, base)]


def poll_seconds() -> float | None:
    """Seconds between two reads of the config file (``TFSERVING_MODEL_CONFIG_FILE_POLL_WAIT_SECONDS``), or
    None: no polling (the variable unset or 0, TF Serving's default).

    Introduced in course4_deployment/C4_W3_Lab_3_Model_Versioning.ipynb.
    """
    raw = os.environ.get(POLL_ENV, "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{POLL_ENV} must be a number of seconds (0: no polling), got {raw!r}") from None
    if seconds < 0:
        raise ValueError(f"{POLL_ENV} must be 0 or more seconds, got {raw!r}")
    return seconds or None


def config_text() -> str | None:
    """The text of the model config file now, or None without a config file.

    Introduced in course4_deployment/C4_W3_Lab_3_Model_Versioning.ipynb.
    """
    path = os.environ.get(CONFIG_ENV)
    return Path(path).read_text() if path else None


def reload_registry(previous: Registry | None, configs: list) -> Registry:
    """A new registry for ``configs`` that reuses the versions ``previous`` has loaded from the same folders.

    Raises:
        RuntimeError: a label names a version ``previous`` has not loaded (TF Serving's wording).

    Introduced in course4_deployment/C4_W3_Lab_3_Model_Versioning.ipynb.
    """
    for config in configs:
        loaded = previous.models.get(config.name, {}) if previous is not None else {}
        for version in sorted(config.version_labels.values()):
            if version not in loaded:
                raise RuntimeError(f"Request to assign label to version {version} of model {config.name}, which "
                                   "is not currently available for inference")
    reuse = {} if previous is None else {
        (s.name, s.path): s for versions in previous.models.values() for s in versions.values()}
    return load_registry(configs, reuse=reuse)


def start_polling(app, loaded_text: str | None) -> asyncio.Task | None:
    """Start re-reading the config file in the running event loop (None when polling is off).

    ``app`` is the ``TFServingApp`` whose ``registry`` is swapped; ``loaded_text`` the config it loaded.

    Introduced in course4_deployment/C4_W3_Lab_3_Model_Versioning.ipynb.
    """
    seconds = poll_seconds()
    path = os.environ.get(CONFIG_ENV)
    if seconds is None or not path:
        return None
    return asyncio.get_running_loop().create_task(_poll(app, Path(path), seconds, loaded_text))


async def _poll(app, path: Path, seconds: float, last: str | None) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(seconds)
        try:
            text = path.read_text()
        except OSError as exc:
            log.error("Failed to read ModelServerConfig file: %s", exc)  # TF Serving's wording, from here on
            log.info("%s still serving the previous config", OWN)
            continue
        if text == last:
            continue
        last = text
        try:
            configs = parse_model_config(text)
        except ValueError as exc:
            log.error("Failed to read ModelServerConfig file: %s", exc)
            log.info("%s still serving the previous config", OWN)
            continue
        log.info("Adding/updating models.")
        try:
            registry = await loop.run_in_executor(None, reload_registry, app.registry, configs)
        except Exception as exc:  # the server keeps its previous config, as TF Serving does
            log.error("PollFilesystemAndReloadConfig failed to ReloadConfig: %s", exc)
            hint = ("; a label can point only at a version already loaded: serve the version first, then "
                    "label it in a second config change") if "Request to assign label" in str(exc) else ""
            log.info("%s still serving the previous config%s", OWN, hint)
            continue
        app.registry = registry
        log.info("Finished adding/updating models")
        summary = "; ".join(f"{name}: versions {sorted(versions)}, labels {registry.labels.get(name, {})}"
                            for name, versions in sorted(registry.models.items()))
        log.info("%s now serving %s", OWN, summary)
