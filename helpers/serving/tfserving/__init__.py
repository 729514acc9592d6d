"""Serve SavedModels over TensorFlow Serving's REST API: the real ``tensorflow_model_server`` when it is
installed, else this project's own server that speaks the same API (``helpers.serving.tfserving.app``).

    from helpers.serving import tfserving

    with tfserving.model_server(model_name="fashion_mnist", model_base_path=MODELS) as server:
        requests.post(server.url + "/v1/models/fashion_mnist:predict", json={"instances": images})

Both servers take the same arguments as the binary: ``--model_name`` with ``--model_base_path`` (a folder
of numbered version folders, the newest served), or ``--model_config_file`` (TF Serving's text-protobuf
``model_config_list``, several models, version policies and ``version_labels``), re-read while serving
with ``--model_config_file_poll_wait_seconds`` (``poll_wait_seconds=``). Either runs as its own
process on 127.0.0.1 on a free port, is waited for with a health check, and is stopped by its process id.
Nothing here imports TensorFlow.

The package's modules:
- ``client``: ``model_server`` (start, health-check, stop), ``ModelConfig`` and the config file parsers.
- ``app``: the server (an ASGI app run by uvicorn as ``helpers.serving.tfserving.app:app``): routing, models,
  versions and labels, TF Serving's error bodies and status codes.
- ``registry``: the served models, each version loaded once, and the servable a request names.
- ``tensors``: TF Serving's JSON mapping of tensors (``instances``/``inputs``, b64, dtype ranges) to numpy.
- ``results``: the answers (``predictions``/``outputs``, classify and regress ``results``).
- ``reload``: the model config file re-read while serving (``--model_config_file_poll_wait_seconds``).

The imports go one way: ``app`` imports ``reload``, ``registry``, ``tensors`` and ``results``; ``reload``
imports ``registry`` and ``client``; nothing imports ``app``.
"""

from helpers.serving.tfserving.client import (
    APP,
    BINARY,
    ENGINES,
    ModelConfig,
    ModelServer,
    find_model_server,
    model_server,
    model_versions,
    parse_model_config,
    read_model_config,
    version_folders,
)

__all__ = ["APP", "BINARY", "ENGINES", "ModelConfig", "ModelServer", "find_model_server", "model_server",
           "model_versions", "parse_model_config", "read_model_config", "version_folders"]
