"""`faceboard methods` and `faceboard method new`: which method types exist and can run here; add one."""

from __future__ import annotations

import argparse
from pathlib import Path

from faceboard.methods.registry import NTIRE, PYTHON


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("methods", help="list method types: kind, GPU need, weights present or missing").set_defaults(
        handler=_methods, needs_root=False)
    method = sub.add_parser("method", help="add a method: `method new NAME --kind python|ntire`")
    actions = method.add_subparsers(dest="action", required=True)
    new = actions.add_parser("new", help="scaffold methods_contrib/<name>/: restorer stub, registration, test")
    new.add_argument("name", help="the method type name, e.g. team07-diffbir")
    new.add_argument("--kind", choices=(PYTHON, NTIRE), default=PYTHON,
                     help="python: a batch restorer; ntire: the challenge's model_func(model_dir, input_path, "
                          "output_path, device)")
    new.set_defaults(handler=_new)


def _methods(args: argparse.Namespace, root: Path | None) -> int:
    from faceboard.methods.registry import CHAIN, methods
    from faceboard.weights.manage import status
    from faceboard.weights.registry import get

    print(f"{'type':20} {'kind':10} {'gpu':6} {'weights':13} description")
    for name, spec in methods(root).items():
        states = [status(get(weight)) for weight in spec.weights]
        problems = [st for st in states if st.problem]
        summary = problems[0].state if problems else ("present" if states else "-")
        gpu = "stages" if spec.kind == CHAIN else "yes" if spec.needs_gpu else "no"  # a chain: its stages'
        print(f"{name:20} {spec.kind:10} {gpu:6} {summary:13} {spec.description}")
        for st in problems:
            print(f"{'':20} {st.state} {st.weight.file_name}: {st.fix}")
    return 0


def _new(args: argparse.Namespace, root: Path) -> int:
    from faceboard.methods.scaffold import instructions, new_method

    folder = new_method(root, args.name, args.kind)
    print(instructions(root, folder, args.name, args.kind))
    return 0
