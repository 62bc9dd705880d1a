"""Every DVC stage depends on the project code it runs and the params it reads; a new dataset reruns scoring.

A stage whose code or params change without DVC noticing is skipped by `dvc repro`, and the leaderboard
then ranks scores made by older code, or labels old scores with a newly chosen dataset. Here, in a fresh
copy of the project, every stage runs once as its dvc.yaml cmd does (`faceboard stage NAME [METHOD]`, one
process each, traced). Each params.yaml key its code read (not counting params.yaml's validation) must be
among its `params`, and each project file it needed must lie under one of its `deps`. Needed are:

- each project module first loaded while the stage ran, each project file whose functions ran, and each
  non-Python file it opened or folder it listed in the code folders (templates, method plugins). Not
  counted: what importing the entry point alone loads (`faceboard stage` imports every stage's tasks, the
  parser every command group: their `register` functions only wire argparse), and what validating
  params.yaml runs (`load_params`: a section's validators accept or refuse it; the stages that read the
  section import the same modules themselves);
- transitively, what those import: module-level imports and those in the functions that ran. Of
  `flows/stages.py` and `faceboard/cli/__init__.py`, which import everything, only the imports whose names
  the functions that ran use; of a module taken only for a literal (`tasks.restore.LOG`), not its imports.

Prefect runs against one local server for the whole run, instead of each stage process starting its own
(seconds each); the stages run the same code. A method with `timeout_s` would run in a spawned worker,
which is not traced (restore depends on all of faceboard/methods and methods_contrib). Real-ESRGAN (minutes
on CPU) is left out of the run; its registry entry is checked statically instead.

Then, with a second embedded dataset fetched beforehand, so that no data dependency changes, choosing it
must make DVC rerun every restore and score stage and the leaderboard.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml

from faceboard import runlock
from faceboard.config import OPERATIONAL
from faceboard.dvc_repo import stages_run
from faceboard.env import with_venv_on_path
from faceboard.imageio import read_rgb, write_png_atomic
from tests.conftest import ROOT, copy_project

pytestmark = pytest.mark.slow

CODE = ("faceboard", "flows", "tasks", "methods_contrib")
DISPATCH = ("flows/stages.py", "faceboard/cli/__init__.py")  # import everything: followed by the names used
STAGES = ["fetch", "degrade", "paired@lq", "paired@opencv_nlm_sharpen", "paired_leaderboard", "leaderboard",
          "report",  # every stage of dvc.yaml run here
          *(f"{stage}@{method}" for method in ("lq", "opencv_nlm_sharpen", "team15_NAFNet", "nlm_niqe_chain")
            for stage in ("restore", "score"))]
PAIRED = ("lq", "opencv_nlm_sharpen")  # params.yaml paired.methods
SLOW_METHODS = ("realesrgan-x4plus",)  # about 3 minutes for the 10 sample images on CPU: checked statically
SAMPLE = "ntire2025-val-sample"
OTHER = "other-sample"  # the sample again with one image changed: the dataset the switch chooses
WORKERS = 2  # stage processes at a time (CI has 2 cores)

# `python -c TRACER OUT ROOTS ARGS...`: runs `faceboard ARGS` as the console script of dvc.yaml's cmds does
# (faceboard.cli.main), from the copy's code, and writes to OUT the project files (relative to one of ROOTS)
# it loaded, ran and opened. The entry points are imported first (once faceboard.cli.main's environment is
# set), so that what they load alone is told apart from what the stage loads and runs.
TRACER = r'''
import json, os, sys, threading
from pathlib import Path

OUT, ROOTS, ARGS = sys.argv[1], sys.argv[2].split(os.pathsep), sys.argv[3:]
CODE = ("faceboard", "flows", "tasks", "methods_contrib")


def rel(path):
    path = os.path.realpath(os.path.abspath(path))
    for root in ROOTS:
        inside = Path(os.path.relpath(path, root))
        if inside.parts and inside.parts[0] in CODE and "__pycache__" not in inside.parts:
            return inside.as_posix()
    return None


def modules(names):
    return {f for name in names if (f := rel(getattr(sys.modules.get(name), "__file__", None) or "/"))}


from faceboard import env

env.configure(env.find_root())
import faceboard.cli
import faceboard.config
import flows.stages  # noqa: F401
from pydantic import BaseModel

baseline = set(sys.modules)
codes, opened, schema = {}, set(), {"depth": 0, "loaded": set()}  # schema: inside load_params
paths, reads, watched, ours = {}, set(), set(), {}  # params object id -> its key; keys read; code file -> ours?


def read(model, name):
    path = paths.get(id(model))
    if path is None or schema["depth"]:
        return
    caller = sys._getframe(2).f_code.co_filename  # not Prefect, say, recording a task's arguments
    if ours.setdefault(caller, rel(caller) is not None):
        if name in type(model).model_fields:
            reads.add(f"{path}.{name}".lstrip("."))
        elif name.startswith("model_dump"):  # all of it
            reads.add(f"{path}.*".lstrip("."))
        elif name == "results_config":  # all of it but the operational and presentation sections
            from faceboard.config import OPERATIONAL, PRESENTATION
            reads.update(f"{path}.{key}.*".lstrip(".") for key in type(model).model_fields
                         if key not in OPERATIONAL | PRESENTATION)


def watch(value, path=""):
    """Record the reads of the fields of the params `value` (key `path`) and of everything in it."""
    if isinstance(value, BaseModel):
        paths[id(value)] = path
        kind = type(value)
        if kind not in watched:
            watched.add(kind)

            def getattribute(self, name, original=kind.__getattribute__):
                read(self, name)
                return original(self, name)

            kind.__getattribute__ = getattribute
        for field in type(value).model_fields:
            watch(object.__getattribute__(value, field), f"{path}.{field}".lstrip("."))
    elif isinstance(value, dict):
        for key, item in value.items():
            watch(item, f"{path}.{key}")


def trace(frame, event, arg):  # "call" events; returning None leaves line events off
    if frame.f_code is faceboard.config.load_params.__code__:  # validating params.yaml: not counted
        before = set(sys.modules)
        schema["depth"] += 1

        def leave(frame, event, arg):
            if event == "return":
                schema["depth"] -= 1
                schema["loaded"] |= set(sys.modules) - before
                watch(arg)
            return leave

        return leave
    if not schema["depth"]:
        codes[id(frame.f_code)] = frame.f_code


def audit(event, args):
    if event in ("open", "os.scandir") and args and isinstance(args[0], str):
        opened.add(os.path.abspath(args[0]))


sys.addaudithook(audit)
threading.settrace(trace)
sys.settrace(trace)
try:
    status = faceboard.cli.main(ARGS)
finally:
    intact = sys.gettrace() is trace
    sys.settrace(None)
    threading.settrace(None)
    ran = {}
    for code in list(codes.values()):
        ran.setdefault(code.co_filename, set()).add(code.co_name)
    with open(OUT, "w") as out:
        json.dump({
            "loaded": sorted(modules(set(sys.modules) - baseline - schema["loaded"])),
            "ran": sorted([f, name] for path, names in ran.items() if (f := rel(path)) for name in names),
            "opened": sorted({f for path in opened if (f := rel(path)) and not f.endswith((".py", ".pyc"))}),
            "params": sorted(reads),
            "trace_intact": intact,
        }, out)
sys.exit(status)
'''


def dvc(project: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=project, capture_output=True, text=True,
                          env=env or with_venv_on_path(), check=False)
    assert done.returncode == 0, f"dvc {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def ran_stages(output: str) -> set[str]:
    return set(stages_run(output))


# --- dvc.yaml, resolved ---------------------------------------------------------------------------------

def param(params: dict, dotted: str):
    for part in dotted.split("."):
        params = params[part]
    return params


def resolve(value, params: dict, key: str | None = None):
    """dvc.yaml's `${...}`: the `${key}` (a dict's) or `${item}` (a list's) of a foreach, or a (dotted) params key."""
    if isinstance(value, dict):
        return {resolve(k, params, key): resolve(v, params, key) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, params, key) for v in value]
    if isinstance(value, str):
        return re.sub(r"\$\{([^}]+)\}", lambda m: key if m[1] in ("key", "item") else str(param(params, m[1])), value)
    return value


def stages(project: Path) -> dict[str, dict]:
    """Every stage of `project`'s dvc.yaml by name (`restore@lq`), `${...}` resolved with its params.yaml."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    found = {}
    for name, stage in yaml.safe_load((project / "dvc.yaml").read_text())["stages"].items():
        if "foreach" not in stage:
            found[name] = resolve(stage, params)
            continue
        items = stage["foreach"]
        if isinstance(items, str):  # `${methods}`: that params value
            items = param(params, re.fullmatch(r"\$\{([^}]+)\}", items)[1])
        for key in items:
            found[f"{name}@{key}"] = resolve(stage["do"], params, key)
    return found


def deps_of(stage: dict) -> list[str]:
    return [next(iter(d)) if isinstance(d, dict) else d for d in stage.get("deps", [])]


def covered(path: str, deps: list[str]) -> bool:
    return any(path == dep.rstrip("/") or path.startswith(dep.rstrip("/") + "/") for dep in deps)


def tracked(stage: dict) -> set[str] | None:
    """The params.yaml keys a stage depends on; None for all of them."""
    keys = set()
    for entry in stage.get("params", []):
        if isinstance(entry, str):
            keys.add(entry)
            continue
        for names in entry.values():  # {file: [keys]}, or {file: None}: all its keys (only params.yaml here)
            if names is None:
                return None
            keys |= set(names)
    return keys


def untracked(reads: list[str], keys: set[str] | None) -> list[str]:
    """The params a stage read (a key read but none below it, or `.*`: all of it) that it does not track; the
    operational sections (how a run is operated: workers, schedule) change no output and need no tracking."""
    reads = [r for r in reads if r.split(".")[0] not in OPERATIONAL]
    if keys is None:
        return []
    whole = {r.removesuffix("*").rstrip(".") for r in reads if r.endswith("*")}
    leaves = whole | {r for r in reads if not r.endswith("*") and not any(o.startswith(r + ".") for o in reads)}
    if "" in leaves:
        return ["all of params.yaml"]
    return sorted(r for r in leaves if not any(r == key or r.startswith(key + ".") for key in keys))


# --- what the project's code imports, statically ----------------------------------------------------------

def module_file(root: Path, name: str) -> str | None:
    """The project file of module `name`; None if it is not one."""
    if name.split(".")[0] not in CODE:
        return None
    base = name.replace(".", "/")
    return next((f for f in (f"{base}.py", f"{base}/__init__.py") if (root / f).is_file()), None)


@cache
def parsed(root: Path, file: str) -> ast.Module:
    return ast.parse((root / file).read_text(encoding="utf-8"), filename=file)


def inert(root: Path, file: str) -> bool:
    """A file of nothing but a docstring (and `from __future__`): loading it changes nothing."""
    return file.endswith(".py") and all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        or isinstance(node, ast.ImportFrom) and node.module == "__future__" for node in parsed(root, file).body)


@cache
def literals(root: Path, file: str) -> frozenset[str]:
    """The module-level names `file` binds to a literal (`LOG = "restore_log.parquet"`)."""
    found = set()
    for node in parsed(root, file).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            try:
                ast.literal_eval(node.value)
            except ValueError:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found |= {t.id for t in targets if isinstance(t, ast.Name)}
    return frozenset(found)


def imported(root: Path, file: str, node: ast.Import | ast.ImportFrom) -> dict[str, set[tuple[str, bool]]]:
    """{each name the statement binds: the project files it loads, each with whether only a literal of the
    file is taken}."""
    def chain(module: str) -> set[tuple[str, bool]]:  # the module and the packages above it
        parts = module.split(".")
        return {(f, False) for i in range(len(parts)) if (f := module_file(root, ".".join(parts[:i + 1])))}

    if isinstance(node, ast.Import):
        return {alias.asname or alias.name.split(".")[0]: chain(alias.name) for alias in node.names}
    package = Path(file).parent.parts
    module = ".".join([*package[:len(package) - node.level + 1], *filter(None, [node.module])]) if node.level \
        else node.module
    bound = {}
    for alias in node.names:
        if module_file(root, f"{module}.{alias.name}"):  # a submodule
            bound[alias.asname or alias.name] = chain(f"{module}.{alias.name}")
        elif (target := module_file(root, module)) and alias.name in literals(root, target):
            bound[alias.asname or alias.name] = chain(module) - {(target, False)} | {(target, True)}
        else:
            bound[alias.asname or alias.name] = chain(module)
    return bound


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module loads (not those in its functions)."""
    todo, found = list(tree.body), []
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return found


def edges(root: Path, file: str, ran: set[str]) -> set[tuple[str, bool]]:
    """The project files `file` needs, given the names of its functions that ran; each with whether only a
    literal of it is needed."""
    if not file.endswith(".py"):
        return set()
    tree = parsed(root, file)
    bindings: dict[str, set[tuple[str, bool]]] = {}
    for node in module_level_imports(tree):
        for name, targets in imported(root, file, node).items():
            bindings.setdefault(name, set()).update(targets)
    functions = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name in ran]
    if file in DISPATCH:
        used = {n.id for f in functions for n in ast.walk(f) if isinstance(n, ast.Name)}
        found = set().union(*(bindings[name] for name in used & set(bindings)))
    else:
        found = set().union(*bindings.values())
    for node in (n for f in functions for n in ast.walk(f)):  # their lazy imports, taken branch or not
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= set().union(*imported(root, file, node).values())
    return found


def closure(root: Path, files: set[str], ran: dict[str, set[str]]) -> set[str]:
    """`files` and, transitively, what they import (but what a module taken only for a literal imports)."""
    todo, found, literal_only = set(files), set(), set()
    while todo:
        file = todo.pop()
        found.add(file)
        for target, leaf in edges(root, file, ran.get(file, set())):
            if leaf:
                literal_only.add(target)
            elif target not in found:
                todo.add(target)
    return {f for f in found | literal_only if not inert(root, f)}


def needed(root: Path, trace: dict) -> set[str]:
    """The project files a traced stage needed (see the module docstring)."""
    ran: dict[str, set[str]] = {}
    for file, name in trace["ran"]:
        if not (file.startswith("faceboard/cli/") and name == "register"):  # argparse wiring
            ran.setdefault(file, set()).add(name)
    return closure(root, set(trace["loaded"]) | set(ran) | set(trace["opened"]), ran)


# --- the traced run ---------------------------------------------------------------------------------------

def prepare(project: Path) -> None:
    """Leave out the slow methods; add OTHER, an embedded copy of the sample with one image changed."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    for name in SLOW_METHODS:
        params["methods"].pop(name, None)
    sample = params["datasets"][SAMPLE]
    folder = Path(sample["source"]["path"])
    other = folder.with_name(f"{folder.name}-other")
    shutil.copytree(project / folder / sample["lq"], project / other / sample["lq"])
    shutil.copy2(project / folder / sample["landmarks"], project / other / sample["landmarks"])
    image = read_rgb(changed_image(project))
    image[:64, :64] = 255 - image[:64, :64]
    write_png_atomic(changed_image(project), np.ascontiguousarray(image))
    params["datasets"][OTHER] = {**sample, "source": {**sample["source"], "path": other.as_posix()},
                                 "description": "the sample, one image changed (tests/test_dvc_deps.py)"}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def changed_image(project: Path) -> Path:
    """The image of OTHER that differs from the sample's."""
    folder = Path(yaml.safe_load((project / "params.yaml").read_text())["datasets"][SAMPLE]["source"]["path"])
    return min((project / folder.with_name(f"{folder.name}-other") / "lq").rglob("*.png"))


@contextmanager
def prefect_server(home: Path) -> Iterator[dict[str, str]]:
    """The environment of stage processes, with Prefect on one local server (each would start its own)."""
    local = ",".join(filter(None, ["127.0.0.1", "localhost", os.environ.get("NO_PROXY")]))
    env = {**with_venv_on_path(), "PREFECT_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1",
           "NO_PROXY": local, "no_proxy": local}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(home / "server.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        url, deadline = f"http://127.0.0.1:{port}/api", time.monotonic() + 90
        while True:
            try:
                urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{url}/health", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (home / "server.log").read_text()
                time.sleep(0.5)
        yield {**env, "PREFECT_API_URL": url}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def prefect_env(tmp_path_factory) -> Iterator[dict[str, str]]:
    with prefect_server(tmp_path_factory.mktemp("prefect")) as env:
        yield env


def run_traced(project: Path, out_dir: Path, env: dict[str, str],
               jobs: dict[str, tuple[list[str], list[str]]]) -> dict[str, dict]:
    """Run `faceboard ARGS` for each job {name: (ARGS, the jobs it waits for)}, WORKERS at a time, traced."""
    roots = os.pathsep.join(dict.fromkeys(map(str, (project.resolve(), ROOT))))

    def one(name: str, args: list[str]) -> dict:
        out, started = out_dir / f"{name}.json", time.monotonic()
        done = subprocess.run([sys.executable, "-c", TRACER, str(out), roots, *args], cwd=project,
                              capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 0, f"faceboard {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        trace = json.loads(out.read_text())
        assert trace["trace_intact"], f"faceboard {' '.join(args)}: something replaced the tracer"
        return {**trace, "seconds": round(time.monotonic() - started, 1)}

    results: dict[str, dict] = {}
    running = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        while len(results) < len(jobs):
            for name, (args, after) in jobs.items():
                if name not in results and name not in running and all(a in results for a in after):
                    running[name] = pool.submit(one, name, args)
            finished, _ = wait(running.values(), return_when=FIRST_COMPLETED)
            for name in [name for name, future in running.items() if future in finished]:
                results[name] = running.pop(name).result()
    return results


@pytest.fixture(scope="module")
def traced(tmp_path_factory, prefect_env) -> tuple[Path, dict[str, dict]]:
    """A copy of the project (fast methods only, OTHER fetched as well) where every stage ran once, traced."""
    project = copy_project(tmp_path_factory.mktemp("clone"))
    prepare(project)
    methods = yaml.safe_load((project / "params.yaml").read_text())["methods"]
    jobs: dict[str, tuple[list[str], list[str]]] = {
        "fetch": (["stage", "fetch"], []),
        "degrade": (["stage", "degrade"], []),
        **{f"restore@{m}": (["stage", "restore", m], ["fetch"]) for m in methods},
        **{f"paired@{m}": (["stage", "paired", m], ["degrade"]) for m in PAIRED},
        "paired_leaderboard": (["stage", "paired_leaderboard"], [f"paired@{m}" for m in PAIRED]),
        **{f"score@{m}": (["stage", "score", m], [f"restore@{m}"]) for m in methods},
        "leaderboard": (["stage", "leaderboard"], [f"score@{m}" for m in methods]),
        "report": (["stage", "report"], ["leaderboard", "paired_leaderboard"]),
        "fetch other": (["fetch", OTHER], ["fetch"]),  # not a stage: fetched before the switch below
    }
    started = time.monotonic()
    with runlock.exclusive(*runlock.of_project(None, project)):  # held here, as `faceboard run` holds it for its stages
        traces = run_traced(project, tmp_path_factory.mktemp("traces"), {**prefect_env, runlock.HELD: os.environ[runlock.HELD]},
                            jobs)
    print(f"\nstages run, traced, in {time.monotonic() - started:.0f} s:",
          ", ".join(f"{name} {trace['seconds']} s" for name, trace in traces.items()))
    return project, traces


@pytest.mark.parametrize("stage", STAGES)
def test_stage_depends_on_the_code_it_runs(traced, stage):
    project, traces = traced
    deps = deps_of(stages(project)[stage])
    missing = sorted(f for f in needed(project, traces[stage]) if not covered(f, deps))
    assert not missing, f"dvc.yaml stage {stage} uses these project files, not under its deps: {missing}"


@pytest.mark.parametrize("stage", STAGES)
def test_stage_tracks_the_params_it_reads(traced, stage):
    project, traces = traced
    missing = untracked(traces[stage]["params"], tracked(stages(project)[stage]))
    assert not missing, f"dvc.yaml stage {stage} reads these params, not among its params: {missing}"


def test_every_stage_is_run(traced):
    """Every stage of dvc.yaml is checked: run above, or (the slow methods) statically below."""
    project, _ = traced
    assert set(stages(project)) == set(STAGES), "a new stage or method: run it here (STAGES) or add it to SLOW_METHODS"
    assert set(stages(ROOT)) - set(STAGES) <= {f"{s}@{m}" for s in ("restore", "score") for m in SLOW_METHODS}


@pytest.mark.parametrize("method", SLOW_METHODS)
def test_slow_method_is_covered_statically(traced, method):
    """The registry entry's module of a method too slow to run here, and what it imports, are restore deps."""
    from faceboard.config import load_params
    from faceboard.methods import registry

    project, _ = traced
    config = load_params(ROOT / "params.yaml").methods.get(method)
    if config is None:
        pytest.skip(f"{method} is not in params.yaml")
    entry = registry.get(config.type, ROOT).entry
    deps = deps_of(stages(ROOT)[f"restore@{method}"])
    missing = sorted(f for f in closure(project, {module_file(project, entry.split(":")[0])}, {})
                     if not covered(f, deps))
    assert not missing, f"restore@{method} loads {missing}, not under its deps"


def test_score_tracks_the_official_splits():
    """A score stage checks the LQ set against the digest list of each official split of faceboard.protocol:
    it depends on their params (`datasets.<split>`) and on the checksum files they name."""
    from faceboard.protocol import EDITIONS

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    splits = {split for protocol in EDITIONS.values() for split in protocol.splits}
    lists = {part["checksums"] for split in splits for part in params["datasets"][split]["source"]["parts"]
             if part.get("checksums")}
    for name, stage in stages(ROOT).items():
        if name.startswith("score@"):
            tracked = set(stage.get("params", []))
            assert "datasets" in tracked or {f"datasets.{s}" for s in splits} <= tracked, name
            assert all(covered(path, deps_of(stage)) for path in lists), name


def choose_dataset(project: Path, name: str) -> dict:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["dataset"] = name
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return params


def test_switching_dataset_reruns_restore_score_and_leaderboard(traced, prefect_env):
    """With OTHER fetched beforehand (no data dependency changes), choosing it reruns what read the dataset."""
    project, _ = traced
    dvc(project, "commit", "--force", env=prefect_env)  # the runs above, recorded: the first `dvc repro`
    assert "up to date" in dvc(project, "status", env=prefect_env)
    methods = choose_dataset(project, OTHER)["methods"]
    # `--dry`: the stages DVC finds changed, not run (run, they would also rebuild the report)
    again = ran_stages(dvc(project, "repro", "--dry", env=prefect_env))
    assert again == {"fetch", "leaderboard", *(f"{s}@{m}" for s in ("restore", "score") for m in methods)}


def test_restore_after_the_switch_restores_the_new_images(traced, prefect_env):
    project, _ = traced
    choose_dataset(project, OTHER)
    done = subprocess.run([sys.executable, "-m", "dvc", "repro", "--single-item", "restore@lq"], cwd=project,
                          capture_output=True, text=True, env=prefect_env, check=False)
    if done.returncode or ran_stages(done.stdout) != {"restore@lq"}:
        pytest.fail(f"dvc repro restore@lq:\n{done.stdout}\n{done.stderr}")  # not the known failure
    image = changed_image(project)  # `lq` restores an image as it is
    restored = read_rgb(project / "data/restored/lq" / image.parent.name / image.name)
    assert np.array_equal(restored, read_rgb(image)), "restored/lq holds the sample's image, not OTHER's"
