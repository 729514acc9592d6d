"""The wine service: a FastAPI app that classifies wines, one per request or a batch at a time.

Run it from the folder that holds ``helpers``, with ``WINE_MODEL_PATH`` naming a model saved with joblib:

    WINE_MODEL_PATH=model/wine.joblib python -m uvicorn helpers.serving.wine_service:app --port 8000

then open http://127.0.0.1:8000/docs. Introduced in course4_deployment/C4_W2_Lab_1_FastAPI_Batching.ipynb.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from helpers.arguments import env_whole
from helpers.serving import BodyLimitMiddleware, JSONGuardMiddleware

# --- limits (each overridable by WINE_<NAME>) and feature ranges -------------------------------------

MAX_BATCH = env_whole("WINE_MAX_BATCH", 256)                    # wines in one /predict_batch request
MAX_BODY_BYTES = env_whole("WINE_MAX_BODY_BYTES", 100_000)      # a full batch of 256 wines takes about 30 KB
MAX_DEPTH = env_whole("WINE_MAX_DEPTH", 8)                      # a batch is 3 levels deep: {"batches": [[...], ...]}
MAX_VALUES = env_whole("WINE_MAX_VALUES", MAX_BATCH * 13 + 64)  # numbers (and other values) in one body

# name -> (lowest, highest) value accepted: generous physical ranges around the data set's own
FEATURES: dict[str, tuple[float, float]] = {
    "alcohol": (0, 20),                      # % by volume
    "malic_acid": (0, 10),                   # g/l
    "ash": (0, 5),                           # g/l
    "alcalinity_of_ash": (0, 50),
    "magnesium": (0, 250),                   # mg/l
    "total_phenols": (0, 5),
    "flavanoids": (0, 10),
    "nonflavanoid_phenols": (0, 2),
    "proanthocyanins": (0, 5),
    "color_intensity": (0, 20),
    "hue": (0, 3),
    "od280_od315_of_diluted_wines": (0, 5),
    "proline": (0, 2500),                    # mg/l
}


# --- the request schema ----------------------------------------------------------------------------

def _feature(name: str) -> type:
    """A float within the feature's range; NaN and infinity refused."""
    low, high = FEATURES[name]
    return Annotated[float, Field(ge=low, le=high, allow_inf_nan=False)]


class Wine(BaseModel):
    """One wine: its 13 chemical measurements, each a finite number within its range."""

    model_config = ConfigDict(extra="forbid")

    alcohol: _feature("alcohol")
    malic_acid: _feature("malic_acid")
    ash: _feature("ash")
    alcalinity_of_ash: _feature("alcalinity_of_ash")
    magnesium: _feature("magnesium")
    total_phenols: _feature("total_phenols")
    flavanoids: _feature("flavanoids")
    nonflavanoid_phenols: _feature("nonflavanoid_phenols")
    proanthocyanins: _feature("proanthocyanins")
    color_intensity: _feature("color_intensity")
    hue: _feature("hue")
    od280_od315_of_diluted_wines: _feature("od280_od315_of_diluted_wines")
    proline: _feature("proline")


# one wine in a batch: the same 13 features, by position (a tuple checks there are exactly 13)
WineRow = tuple[tuple(_feature(name) for name in FEATURES)]


class WineBatch(BaseModel):
    """A batch of wines, each a list of its 13 features in the order of ``Wine``'s fields."""

    model_config = ConfigDict(extra="forbid")

    batches: Annotated[list[WineRow], Field(min_length=1, max_length=MAX_BATCH)]


# --- start-up: the model is loaded once, when the server starts, not on every request -----------------

model_loads = 0  # how many times this process loaded the model (the health check reports it)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the model named by ``WINE_MODEL_PATH`` before the first request; drop it at shut-down."""
    global model_loads
    import joblib

    path = os.environ.get("WINE_MODEL_PATH", "model/wine.joblib")
    if not os.path.isfile(path):
        raise RuntimeError(f"no model at WINE_MODEL_PATH={path!r}; train and save one first (joblib.dump)")
    app.state.model = joblib.load(path)
    model_loads += 1
    yield
    del app.state.model


# --- the app and its endpoints ---------------------------------------------------------------------

app = FastAPI(title="Wine classifier", version="1.0", lifespan=lifespan)


@app.get("/")
def health() -> dict:
    """Health check: the service is up and its model is loaded."""
    return {"status": "ok", "model_loads": model_loads, "max_batch": MAX_BATCH}


@app.post("/predict")
def predict(wine: Wine, request: Request) -> dict:
    """The class (0, 1 or 2) of one wine."""
    row = [[getattr(wine, name) for name in FEATURES]]
    return {"prediction": int(request.app.state.model.predict(row)[0])}


@app.post("/predict_batch")
def predict_batch(batch: WineBatch, request: Request) -> dict:
    """The classes of a batch of wines, in the order they were sent."""
    predictions = request.app.state.model.predict([list(row) for row in batch.batches])
    return {"predictions": [int(p) for p in predictions]}


# the last middleware added runs first: the size limit, then the JSON checks, then FastAPI
app.add_middleware(JSONGuardMiddleware, max_depth=MAX_DEPTH, max_values=MAX_VALUES,
                   advice=f"send at most {MAX_BATCH} wines per batch")
app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)


# --- the container image ---------------------------------------------------------------------------

DOCKERFILE = """\
# The wine service in a container: docker build -t wine-service . && docker run -p 8000:80 wine-service
FROM python:{python}-slim

WORKDIR /app

# dependencies first: this layer is rebuilt only when requirements.txt changes, not when the code does
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# then the code and the model, which change more often
COPY helpers/ ./helpers/
COPY model/wine.joblib ./model/wine.joblib
ENV WINE_MODEL_PATH=/app/model/wine.joblib

EXPOSE 80
CMD ["uvicorn", "helpers.serving.wine_service:app", "--host", "0.0.0.0", "--port", "80", "--limit-concurrency", "64"]
"""

REQUIREMENTS = ("fastapi", "uvicorn", "pydantic", "scikit-learn", "joblib", "numpy", "scipy")
HELPERS_FILES = ("arguments.py",)  # the modules of helpers/ the serving package imports
SERVICE_FILES = ("__init__.py", "json_scan.py", "limits.py", "process.py", "wine_service.py")


def docker_context(folder: str | os.PathLike, model_path: str | os.PathLike) -> dict[str, str]:
    """Write a Docker build context for this service into ``folder``; return ``{file: what it is}``.

    The folder gets the ``Dockerfile``, a ``requirements.txt`` pinned to the versions running here (the
    model was pickled by this scikit-learn: the image must load it with the same version), this module with
    the ``helpers/serving/`` package and the ``helpers/arguments.py`` they import, and the model. Nothing is
    built: run ``docker build`` where Docker runs.

    Introduced in course4_deployment/C4_W2_Lab_1_FastAPI_Batching.ipynb.
    """
    import shutil
    import sys
    from importlib import metadata
    from pathlib import Path

    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"no model at {str(model_path)!r}; train and save it (joblib.dump) first")
    folder = Path(folder)
    (folder / "helpers").mkdir(parents=True, exist_ok=True)
    (folder / "model").mkdir(exist_ok=True)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    (folder / "Dockerfile").write_text(DOCKERFILE.format(python=python))
    pins = [f"{name}=={metadata.version(name)}" for name in REQUIREMENTS]
    (folder / "requirements.txt").write_text("\n".join(pins) + "\n")
    here = Path(__file__).parent
    (folder / "helpers" / "__init__.py").write_text('"""The parts of the helpers package the wine service needs."""\n')
    for name in HELPERS_FILES:
        shutil.copyfile(here.parent / name, folder / "helpers" / name)
    (folder / "helpers" / "serving").mkdir(exist_ok=True)
    for name in SERVICE_FILES:  # the app and the serving package's own modules, not the other services
        shutil.copyfile(here / name, folder / "helpers" / "serving" / name)
    shutil.copyfile(model_path, folder / "model" / "wine.joblib")
    return {"Dockerfile": "the recipe of the image", "requirements.txt": ", ".join(pins),
            "helpers/": ", ".join(("__init__.py", *HELPERS_FILES)) + ", serving/ (" + ", ".join(SERVICE_FILES) + ")",
            "model/wine.joblib": "the model"}


def dockerfile_facts(text: str) -> dict:
    """What a Dockerfile says: its base image, exposed ports, files copied (source, destination) and CMD.

    Introduced in course4_deployment/C4_W2_Lab_1_FastAPI_Batching.ipynb.
    """
    import json

    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a Dockerfile's non-empty text")
    facts: dict = {"from": None, "expose": [], "copy": [], "cmd": None, "env": {}}
    for line in text.splitlines():
        words = line.strip().split(None, 1)
        if not words or words[0].startswith("#") or len(words) < 2:
            continue
        instruction, rest = words[0].upper(), words[1].strip()
        if instruction == "FROM":
            facts["from"] = rest.split()[0]
        elif instruction == "EXPOSE":
            facts["expose"] += [int(port.split("/")[0]) for port in rest.split()]
        elif instruction == "COPY":
            *sources, destination = rest.split()
            facts["copy"] += [(source, destination) for source in sources]
        elif instruction == "ENV":
            key, _, value = rest.partition("=")
            facts["env"][key.strip()] = value.strip()
        elif instruction == "CMD":
            facts["cmd"] = json.loads(rest) if rest.startswith("[") else rest.split()
    return facts
