"""Start and stop a model server (``model_server``) and read TF Serving's model config files.

Re-exported by ``helpers.serving.tfserving``; see its docstring. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from helpers import serving

BINARY = "tensorflow_model_server"
APP = "helpers.serving.tfserving.app:app"
ENGINES = ("auto", "tensorflow_model_server", "helpers")


@dataclass
class ModelConfig:
    """One entry of TF Serving's ``model_config_list``: a model's name, base path, versions and labels.

    ``version_policy`` is ``("latest", n)``, ``("all", None)`` or ``("specific", [versions])``; TF Serving's
    default is ``("latest", 1)``: only the highest numbered version is served.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    name: str
    base_path: str
    model_platform: str = "tensorflow"
    version_policy: tuple = ("latest", 1)
    version_labels: dict[str, int] = field(default_factory=dict)


@dataclass
class ModelServer(serving.Server):
    """A running model server: ``url``, ``port``, ``log_path``, ``process``, and which ``engine`` it is.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """

    engine: str = ""


def version_folders(base_path: str | os.PathLike) -> dict[int, Path]:
    """The version folders under a model base path, by version number: sub-folders named by a number, leading
    zeros allowed (TF Serving's own examples name version 123 ``00000123``), in ascending order.

    Raises:
        FileNotFoundError: the base path is not a folder.
        ValueError: two folders name the same version (``1`` and ``001``).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    base = Path(base_path)
    if not base.is_dir():
        raise FileNotFoundError(f"model base path {str(base)!r} is not a folder; export a SavedModel into "
                                f"{str(base / '1')!r} first")
    folders: dict[int, Path] = {}
    for path in sorted(base.iterdir()):
        if path.is_dir() and path.name.isascii() and path.name.isdigit():
            number = int(path.name)
            if number in folders:
                raise ValueError(f"folders {folders[number].name!r} and {path.name!r} under {str(base)!r} both "
                                 f"name version {number}; keep one")
            folders[number] = path
    return dict(sorted(folders.items()))


def model_versions(base_path: str | os.PathLike) -> list[int]:
    """The version numbers under a model base path (its sub-folders named by a number), in ascending order.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    return list(version_folders(base_path))


def parse_model_config(text: str) -> list[ModelConfig]:
    """Parse a TF Serving model config file (text protobuf ``model_config_list { config { ... } }``).

    Uses ``tensorflow_serving.config.model_server_config_pb2`` (package ``tensorflow-serving-api``) when it
    is installed, else a small parser of the same text format (the Colab profile has no such package).

    Raises:
        TypeError: ``text`` is not a string.
        ValueError: the text is not a valid config, or a model lacks its name or base path.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_model_config takes the config file's text (a str), got {type(text).__name__}")
    try:
        from tensorflow_serving.config import model_server_config_pb2
    except ImportError:
        model_server_config_pb2 = None
    if model_server_config_pb2 is None:
        tree = _parse_text_proto(text)
        unknown = set(tree) - {"model_config_list"}
        if unknown:
            raise ValueError(f"model config: unsupported top-level field(s) {sorted(unknown)}; this parser reads "
                             "only model_config_list (install tensorflow-serving-api for the full format)")
        entries = [c for mcl in tree.get("model_config_list", []) for c in mcl.get("config", [])]
        configs = [_config_from_tree(entry) for entry in entries]
    else:
        from google.protobuf import text_format

        try:
            message = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
        except text_format.ParseError as exc:
            raise ValueError(f"model config is not valid text protobuf: {exc}") from None
        configs = [_config_from_proto(c) for c in message.model_config_list.config]
    if not configs:
        raise ValueError("model config lists no model: write model_config_list { config { name: '...' "
                         "base_path: '...' } }")
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f"model config names a model more than once: {names}")
    return configs


def read_model_config(path: str | os.PathLike) -> list[ModelConfig]:
    """Read and parse a TF Serving model config file (see ``parse_model_config``).

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model config file {str(path)!r} does not exist")
    return parse_model_config(path.read_text())


def _config_from_proto(c) -> ModelConfig:
    policy = c.model_version_policy
    choice = policy.WhichOneof("policy_choice")
    if choice == "specific":
        version_policy = ("specific", sorted(int(v) for v in policy.specific.versions))
    elif choice == "all":
        version_policy = ("all", None)
    else:
        version_policy = ("latest", policy.latest.num_versions or 1)
    return _checked(ModelConfig(c.name, c.base_path, c.model_platform or "tensorflow", version_policy,
                                {k: int(v) for k, v in c.version_labels.items()}))


def _config_from_tree(entry: dict) -> ModelConfig:
    def one(key: str, default=""):
        values = entry.get(key, [default])
        return values[-1]

    policy = one("model_version_policy", {})
    if "specific" in policy:
        version_policy = ("specific", sorted(int(v) for s in policy["specific"] for v in s.get("versions", [])))
    elif "all" in policy:
        version_policy = ("all", None)
    else:
        latest = policy.get("latest", [{}])[-1]
        version_policy = ("latest", int(latest.get("num_versions", [1])[-1]) or 1)
    labels = {}
    for item in entry.get("version_labels", []):
        labels[str(item.get("key", [""])[-1])] = int(item.get("value", [0])[-1])
    return _checked(ModelConfig(str(one("name")), str(one("base_path")), str(one("model_platform", "tensorflow")),
                                version_policy, labels))


def _checked(config: ModelConfig) -> ModelConfig:
    if not config.name:
        raise ValueError("a model in the config has no name: add name: '...' to its config { } block")
    if not config.base_path:
        raise ValueError(f"model {config.name!r} in the config has no base_path: add base_path: '...'")
    if config.model_platform != "tensorflow":
        raise ValueError(f"model {config.name!r}: model_platform {config.model_platform!r} is not served; "
                         "use 'tensorflow'")
    return config


_TOKEN = re.compile(r"""\s+|\#[^\n]*|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d*)?)"""
                    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<punct>[{}:<>\[\],;])""")


def _parse_text_proto(text: str) -> dict:
    """A tiny parser of the protobuf text format: nested ``{field: [values]}`` dicts (every field a list)."""
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            line = text.count("\n", 0, pos) + 1
            raise ValueError(f"model config is not valid text protobuf: unexpected {text[pos]!r} on line {line}")
        pos = match.end()
        kind = match.lastgroup
        if kind == "str":
            tokens.append(("value", bytes(match.group()[1:-1], "utf-8").decode("unicode_escape")))
        elif kind == "num":
            number = match.group()
            tokens.append(("value", int(number) if number.lstrip("-").isdigit() else float(number)))
        elif kind in ("word", "punct"):
            tokens.append((kind, match.group()))

    def block(i: int, closing: str | None) -> tuple[dict, int]:
        out: dict = {}
        while i < len(tokens):
            kind, value = tokens[i]
            if kind == "punct" and value == closing:
                return out, i + 1
            if kind == "punct" and value in ",;":
                i += 1
                continue
            if kind != "word":
                raise ValueError(f"model config is not valid text protobuf: expected a field name, got {value!r}")
            i += 1
            if i < len(tokens) and tokens[i] == ("punct", ":"):
                i += 1
            if i >= len(tokens):
                raise ValueError(f"model config is not valid text protobuf: field {value!r} has no value")
            nxt_kind, nxt = tokens[i]
            if nxt_kind == "punct" and nxt in "{<":
                child, i = block(i + 1, "}" if nxt == "{" else ">")
                out.setdefault(value, []).append(child)
            elif nxt_kind in ("value", "word"):
                out.setdefault(value, []).append(nxt)
                i += 1
            else:
                raise ValueError(f"model config is not valid text protobuf: field {value!r} has no value")
        if closing is not None:
            raise ValueError(f"model config is not valid text protobuf: a block is not closed with {closing!r}")
        return out, i

    tree, _ = block(0, None)
    return tree


def find_model_server() -> str | None:
    """The path of the ``tensorflow_model_server`` binary if it is on PATH, else None.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    return shutil.which(BINARY)


@contextlib.contextmanager
def model_server(model_name: str | None = None, model_base_path: str | os.PathLike | None = None, *,
                 model_config_file: str | os.PathLike | None = None, port: int | None = None,
                 timeout: float = 90.0, log_path: str | os.PathLike | None = None, engine: str = "auto",
                 limits: dict[str, int] | None = None,
                 poll_wait_seconds: int | None = None) -> Iterator[ModelServer]:
    """Run a TF Serving REST server on 127.0.0.1 for the duration of a ``with`` block.

    Args:
        model_name, model_base_path: serve one model from a folder of numbered versions (the binary's
            ``--model_name`` and ``--model_base_path``), or
        model_config_file: a ``model_config_list`` file (``--model_config_file``); not both.
        port: the REST port; ``None`` takes a free one.
        timeout: seconds the server may take to load its models and answer ``GET /v1/models/<first>``.
        log_path: where the server's output goes (default: ``tfserving.log`` beside the models).
        engine: ``"auto"`` (the real binary when it is on PATH, else this project's server),
            ``"tensorflow_model_server"`` or ``"helpers"``.
        limits: for the project's server only, overrides of its request limits (``max_body_bytes``,
            ``max_batch``, ``max_depth``, ``max_values``, ``max_in_flight``).
        poll_wait_seconds: with ``model_config_file``, re-read the file every so many seconds and apply
            a changed config without a restart (``--model_config_file_poll_wait_seconds``); None: never.

    Yields:
        a ``ModelServer``; ``server.engine`` says which server runs.

    Raises:
        ValueError, FileNotFoundError: bad arguments. serving.ServerError: the server did not start.

    Introduced in course4_deployment/C4_W1_Lab_1_Model_Serving.ipynb.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if model_config_file is not None:
        if model_name is not None or model_base_path is not None:
            raise ValueError("pass either model_config_file, or model_name with model_base_path, not both")
        config_path = Path(model_config_file).resolve()
        first = read_model_config(config_path)[0].name
        args = {"model_config_file": str(config_path)}
        if poll_wait_seconds is not None:
            if isinstance(poll_wait_seconds, bool) or not isinstance(poll_wait_seconds, int) or poll_wait_seconds < 1:
                raise ValueError(f"poll_wait_seconds must be a whole number of seconds >= 1 (or None: no polling), "
                                 f"got {poll_wait_seconds!r}")
            args["model_config_file_poll_wait_seconds"] = str(poll_wait_seconds)
        default_log = config_path.parent / "tfserving.log"
    else:
        if not isinstance(model_name, str) or not re.fullmatch(r"[^/:\s]+", model_name or ""):
            raise ValueError(f"model_name must be a non-empty name without '/', ':' or spaces, got {model_name!r}")
        if poll_wait_seconds is not None:
            raise ValueError("poll_wait_seconds needs model_config_file: only a config file is re-read")
        if model_base_path is None:
            raise ValueError("model_base_path is required with model_name (a folder of numbered versions)")
        base = Path(model_base_path).resolve()
        if not model_versions(base):
            raise FileNotFoundError(f"no numbered version folder under {str(base)!r}; export the model to "
                                    f"{str(base / '1')!r}")
        first = model_name
        args = {"model_name": model_name, "model_base_path": str(base)}
        default_log = base.parent / "tfserving.log"
    log_path = Path(log_path) if log_path is not None else default_log
    binary = find_model_server()
    if engine == "tensorflow_model_server" and binary is None:
        raise FileNotFoundError(f"{BINARY} is not on PATH; install it (Docker image tensorflow/serving, or "
                                "the tensorflow-model-server apt package) or pass engine='helpers'")
    health = f"/v1/models/{first}"
    if binary is not None and engine != "helpers":
        with _binary_server(binary, args, port, timeout, log_path, health) as server:
            yield server
        return
    env = {f"TFSERVING_{key.upper()}": value for key, value in args.items()}
    for key, value in (limits or {}).items():
        env[f"TFSERVING_{key.upper()}"] = str(int(value))
    app_dir = Path(__file__).resolve().parent.parent
    with serving.serve(APP, app_dir, port=port, health_path=health, timeout=timeout, log_path=log_path,
                       env=env) as server:
        yield ModelServer(server.url, server.port, server.log_path, server.process, engine="helpers")


@contextlib.contextmanager
def _binary_server(binary: str, args: dict[str, str], port: int | None, timeout: float, log_path: Path,
                   health: str) -> Iterator[ModelServer]:
    rest_port = port if port is not None else serving.free_port()
    if port is not None and serving.port_in_use(port):
        raise serving.ServerError(f"port {port} on {serving.HOST} is already in use; pass port=None")
    command = [binary, f"--port={serving.free_port()}", f"--rest_api_port={rest_port}",
               *(f"--{key}={value}" for key, value in args.items())]
    with serving.process.launch(command, log_path) as process:
        server = ModelServer(f"http://{serving.HOST}:{rest_port}", rest_port, log_path, process,
                             engine="tensorflow_model_server")
        try:
            serving.wait_until_healthy(server.url + health, timeout, process)
        except serving.ServerError as exc:
            raise serving.ServerError(f"{exc}{serving.process.log_excerpt(log_path)}") from None
        yield server
