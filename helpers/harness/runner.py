"""Execute notebooks headlessly with papermill and write a report (the README's run command).

    python -m helpers.harness.runner                         # every notebook, default (CI-sized) parameters
    python -m helpers.harness.runner -k TFDV                 # only notebooks whose path contains "TFDV"
    python -m helpers.harness.runner -j 2                    # two notebooks at a time (`make run ARGS="-j 2"`)
    python -m helpers.harness.runner course2_data/C2_W1_Lab_1_TFDV.ipynb -p eval_fraction 0.3
    python -P -m helpers.harness.runner --profile colab --root . --build build/colab   # `make colab`

Each notebook runs from its own folder with the ``python3`` kernel; the executed copy goes to
``build/executed/<path>``. The report (``build/report.md`` and ``build/report.json``) has, per notebook,
its status, wall time, the peak memory of its kernel (with any processes the kernel started) and the
first error. The exit status is 1 when any notebook failed. With ``-j N``, N notebooks run at a time, each
from a process of its own; the lines and the report keep the notebooks' order and measure each notebook as
before (its wall time grows when it shares the CPU).

The kernels talk to the runner over IPC (Unix sockets in a private temporary folder) rather than TCP ports,
as ipykernel recommends: it warns about every kernel it starts on TCP without encryption.

Two profiles. ``locked`` (the default, requirements.txt) has the TFX libraries, so a notebook that stops at
its TFX check (``helpers.env.MissingTFXLibraries``) has failed. ``colab`` (requirements-colab.txt, a
Colab-like runtime without them) expects that stop from the labs that need them: such a notebook is
counted as ``needs-tfx``, not as a failure, provided it stopped in its Setup section (before its
``parameters`` cell), before any of the lab ran.

After each notebook, a process it started that is still alive (a server, a worker) fails that notebook and is
killed. With ``--offline-guard`` (as in `make colab`), every kernel loads the checkout's offline guard
(``tests/offline_guard``), and a notebook whose processes tried to reach the network fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from helpers import env
from helpers.harness.kernels import (  # adopt_orphans and offline_guard are also used as runner.<name>
    PeakMemory,
    adopt_orphans,
    children,
    ipc_kernel_manager,
    leftovers,
    offline_guard,
    worker_start,
)

COURSES = ("course1_intro", "course2_data", "course3_modeling", "course4_deployment")
PROFILES = ("locked", "colab")
REPORTED = ("tensorflow", "keras", "numpy", "pandas", "scikit-learn", "tensorflow-data-validation")


@dataclass
class Result:
    """One notebook's run."""

    notebook: str
    status: str  # "passed", "failed", or "needs-tfx" (stopped at its TFX check, as it must on Colab;
    #              only in the colab profile: in the locked one that stop is a failure)
    seconds: float
    peak_mb: float
    error: str = ""
    parameters: dict = field(default_factory=dict)


def learner_copy(path: Path) -> bool:
    """Whether ``path`` is an assignment's learner copy: generated from ``solutions/<same name>`` beside it,
    with each solution replaced by a stub that raises, so it is not executed (its solution is)."""
    return path.parent.name != "solutions" and (path.parent / "solutions" / path.name).is_file()


def discover(root: Path | None = None, patterns: list[str] | None = None) -> list[Path]:
    """The notebooks of the four course folders and their ``solutions/``, sorted, without the assignments'
    learner copies; with ``patterns``, those whose path has one."""
    root = root or env.repo_root()
    found = sorted(
        p for course in COURSES for p in [*(root / course).glob("*.ipynb"), *(root / course).glob("solutions/*.ipynb")]
        if not learner_copy(p)
    )
    if patterns:
        found = [p for p in found if any(pat in p.relative_to(root).as_posix() for pat in patterns)]
    return found


def _setup_cells(path: Path) -> int:
    """How many cells make up a notebook's Setup: those before its ``parameters`` cell (else its first
    two code cells: the bootstrap cell and the imports)."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    return code[1] + 1 if len(code) > 1 else len(cells)


def run_notebook(path: Path, out_dir: Path, parameters: dict | None = None,
                 timeout: int = 900, root: Path | None = None, profile: str = "locked") -> Result:
    """Execute one notebook with papermill and measure it; never raises for a failing notebook.

    ``profile`` says what a stop at the TFX check means: a failure (``locked``), or the expected
    ``needs-tfx`` outcome (``colab``) when it happened in the Setup section.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    import papermill as pm

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}; list them with `python -m helpers.harness.runner --list`")
    if path.suffix != ".ipynb":
        raise ValueError(f"{path} is not a notebook (.ipynb)")
    root = root or env.repo_root()
    resolved, base = path.resolve(), root.resolve()
    rel = resolved.relative_to(base) if resolved.is_relative_to(base) else Path(path.name)
    target = out_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    status, error = "passed", ""
    adopt_orphans()
    before = set(children())
    start = time.perf_counter()
    with PeakMemory() as memory, tempfile.TemporaryDirectory(prefix="mlops-kernel-") as sockets:
        try:
            pm.execute_notebook(
                str(path), str(target), parameters=parameters or {}, kernel_name="python3",
                cwd=str(path.parent), progress_bar=False, execution_timeout=timeout, start_timeout=120,
                kernel_manager_class=ipc_kernel_manager(sockets),
            )
        except pm.PapermillExecutionError as exc:
            status, error = "failed", f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}".strip()
            if exc.ename == "MissingTFXLibraries":
                if profile == "locked":
                    error = f"the locked environment must have the TFX libraries; {error}"
                elif exc.cell_index >= _setup_cells(path):
                    error = (f"stopped at its TFX check only in cell {exc.exec_count}, after the lab had "
                             f"started; call helpers.env.require_tfx() in the Setup section; {error}")
                else:
                    status = "needs-tfx"
        except Exception as exc:  # a kernel that died or timed out is a failure of that notebook, not of the run
            status, error = "failed", f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    left = leftovers(before)
    if left:
        status, error = "failed", f"left running (now killed): {'; '.join(left)}" + (f"; {error}" if error else "")
    log = os.environ.get("MLOPS_LABS_NETWORK_LOG")
    attempts = Path(log).read_text() if log and Path(log).is_file() else ""
    if attempts:
        Path(log).write_text("")
        status, error = "failed", f"tried to reach the network: {attempts.strip()[:300]}"
    return Result(rel.as_posix(), status, round(seconds, 1), round(memory.peak / 2**20), error[:500],
                  dict(parameters or {}))


def refresh(path: Path, timeout: int = 900) -> None:
    """Re-execute a notebook in place, so its stored outputs are the ones the tests compare against.

    Uses nbclient without timing metadata, so a refresh that changes no result changes no byte.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="mlops-kernel-") as sockets:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                       kernel_manager_class=ipc_kernel_manager(sockets),
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)


def write_report(results: list[Result], build: Path, title: str = "Notebook run",
                 profile: str = "locked") -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.json`` into ``build``; return their paths."""
    build.mkdir(parents=True, exist_ok=True)
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "needs-tfx")}
    summary = {
        "title": title,
        "profile": profile,
        "python": ".".join(map(str, sys.version_info[:3])),
        "versions": env.versions(REPORTED),
        "total_seconds": round(sum(r.seconds for r in results), 1),
        "counts": counts,
        "notebooks": [asdict(r) for r in results],
    }
    json_path = build / "report.json"
    json_path.write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        f"# {title}", "",
        f"{counts['passed']} passed, {counts['failed']} failed"
        + (f", {counts['needs-tfx']} stopped at their TFX check (as they must without the TFX libraries)"
           if counts["needs-tfx"] else "")
        + f"; {summary['total_seconds']} s in all.", "",
        f"Profile `{profile}`: Python {summary['python']}, "
        + ", ".join(f"{k} {v}" for k, v in summary["versions"].items()) + ".", "",
        "| Notebook | Status | Wall time (s) | Peak kernel memory (MB) | First error |",
        "|---|---|---:|---:|---|",
    ]
    for r in sorted(results, key=lambda r: -r.seconds):
        err = r.error.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r.notebook} | {r.status} | {r.seconds} | {r.peak_mb:.0f} | {err} |")
    md_path = build / "report.md"
    md_path.write_text("\n".join(lines) + "\n")
    return md_path, json_path


def _parse_parameters(pairs: list[list[str]]) -> dict:
    """``-p name value`` pairs; values are read as JSON when they parse (numbers, booleans), else text."""
    params = {}
    for name, value in pairs:
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.harness.runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebook files (default: every notebook)")
    parser.add_argument("-k", dest="patterns", action="append", help="only paths containing this text")
    parser.add_argument("-j", dest="jobs", type=int, default=1, metavar="N",
                        help="run N notebooks at a time, each from a process of its own (default 1; `make run "
                             "ARGS=\"-j 2\"`); the output and the report are in the same order, with each "
                             "notebook's own wall time and memory")
    parser.add_argument("-p", dest="parameters", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="a parameter for the notebooks' parameters cell")
    parser.add_argument("--build", type=Path, default=None, help="report folder (default: build/)")
    parser.add_argument("--title", default="Notebook run", help="the report's heading")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may take")
    parser.add_argument("--profile", choices=PROFILES, default="locked",
                        help="locked: the TFX libraries must be there (a TFX stop fails); colab: labs that "
                             "need them must stop in their Setup section (counted as needs-tfx)")
    parser.add_argument("--root", type=Path, default=None,
                        help="the repository checkout (default: the one holding helpers, else the current "
                             "folder); needed when helpers is installed as a package, as in `make colab`")
    parser.add_argument("--offline-guard", action="store_true",
                        help="load the checkout's offline guard into every kernel; a notebook whose processes "
                             "try to reach the network fails")
    parser.add_argument("--list", action="store_true", help="list the notebooks and stop")
    parser.add_argument("--refresh", action="store_true",
                        help="re-execute the notebooks in place to update their stored outputs (no report)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"-j must be 1 or more, got {args.jobs}")

    root = _root(args.root, parser)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no notebook at {', '.join(missing)} (paths are relative to {os.getcwd()})")
    notebooks = [p.resolve() for p in args.notebooks] or discover(root, args.patterns)
    if args.notebooks and args.patterns:
        notebooks = [p for p in notebooks if any(pat in p.as_posix() for pat in args.patterns)]
    if not notebooks:
        parser.error("no notebook matches" + (f" {args.patterns}" if args.patterns else ""))
    if args.list:
        print("\n".join(p.relative_to(root).as_posix() for p in notebooks))
        return 0

    if args.refresh:
        for nb in notebooks:
            start = time.perf_counter()
            refresh(nb, args.timeout)
            print(f"refreshed {nb.relative_to(root)} in {time.perf_counter() - start:.1f} s", flush=True)
        return 0

    if args.offline_guard:
        offline_guard(root)
    build = args.build or root / "build"
    params = _parse_parameters(args.parameters)
    results = []
    for result in _results(notebooks, args.jobs, build / "executed", params, args.timeout, root, args.profile):
        print(f"{result.status:>9}  {result.seconds:7.1f} s  {result.peak_mb:6.0f} MB  {result.notebook}"
              + (f"\n           {result.error}" if result.error else ""), flush=True)
        results.append(result)
    md, _ = write_report(results, build, args.title, args.profile)
    print(f"report: {md.relative_to(root) if md.is_relative_to(root) else md}")
    failed = [r for r in results if r.status == "failed"]
    for r in failed:
        print(f"FAILED {r.notebook}: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def _results(notebooks: list[Path], jobs: int, *run_args):
    """Each notebook's Result, in the notebooks' order: run here one by one, or ``jobs`` at a time by worker
    processes (each runs one notebook at a time, so its children are that notebook's kernel and servers)."""
    if jobs == 1:
        yield from (run_notebook(nb, *run_args) for nb in notebooks)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=worker_start) as pool:
        futures = [pool.submit(run_notebook, nb, *run_args) for nb in notebooks]
        yield from (future.result() for future in futures)


def _root(given: Path | None, parser: argparse.ArgumentParser) -> Path:
    """The checkout whose course folders hold the notebooks."""
    if given is not None:
        if not any((given / course).is_dir() for course in COURSES):
            parser.error(f"--root {given} has none of the course folders {', '.join(COURSES)}")
        return given.resolve()
    try:
        return env.repo_root()
    except FileNotFoundError:
        cwd = Path.cwd()
        if any((cwd / course).is_dir() for course in COURSES):
            return cwd
        raise


if __name__ == "__main__":
    sys.exit(main())
