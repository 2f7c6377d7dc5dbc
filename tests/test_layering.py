"""Imports run one way (docs/framework.md, DESIGN.md): checked by parsing every module's imports with ast,
function-local imports included.

    digitnet.nn             imports nothing of digitnet outside digitnet.nn
    the reference tier      (nn/layers/*.py, nn/optim.py) imports NumPy and the standard library only, besides
                            the framework's contract modules (layers.base, init, checks, backend, tiers)
    digitnet.data           imports no digitnet.nn, app or commands
    digitnet.commands       is imported by nothing but digitnet.cli (and the commands themselves)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "digitnet"
REFERENCE_TIER = sorted((PACKAGE / "nn" / "layers").glob("*.py")) + [PACKAGE / "nn" / "optim.py"]
CONTRACT = {
    "digitnet.nn",
    "digitnet.nn.layers",
    "digitnet.nn.layers.base",
    "digitnet.nn.init",
    "digitnet.nn.checks",
    "digitnet.nn.backend",
    "digitnet.nn.tiers",
} | {f"digitnet.nn.layers.{p.stem}" for p in REFERENCE_TIER}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, at any depth (functions included).

    ``from a.b import c`` gives both a.b and a.b.c (c may be a module). ``source``: the text to parse
    instead of the file's (the file's path still places it in the package).
    """
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.append((node.lineno, name))
            # "from digitnet.nn import io" imports the module digitnet.nn.io
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def modules_under(folder: Path):
    return sorted(folder.rglob("*.py"))


def violations(files, allowed) -> list[str]:
    bad = []
    for path in files:
        for line, name in imports(path):
            if not allowed(name):
                bad.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    return bad


def _digitnet(name: str) -> bool:
    return name == "digitnet" or name.startswith("digitnet.")


def test_nn_imports_nothing_of_digitnet_outside_nn():
    inside = lambda name: not _digitnet(name) or name == "digitnet.nn" or name.startswith("digitnet.nn.")
    assert violations(modules_under(PACKAGE / "nn"), inside) == []


def test_the_reference_tier_imports_numpy_and_the_contract_only():
    stdlib = set(sys.stdlib_module_names)

    def allowed(name):
        top = name.split(".")[0]
        return (
            top in stdlib
            or top == "numpy"
            or name == "__future__"
            or name in CONTRACT
            or name.rpartition(".")[0] in CONTRACT
        )  # a class imported from a contract module

    assert violations(REFERENCE_TIER, allowed) == []


def test_data_imports_no_nn_app_or_commands():
    forbidden = ("digitnet.nn", "digitnet.app", "digitnet.commands", "digitnet.cli")
    allowed = lambda name: not any(name == f or name.startswith(f + ".") for f in forbidden)
    assert violations(modules_under(PACKAGE / "data"), allowed) == []


def test_nothing_imports_commands_but_cli():
    files = [p for p in modules_under(PACKAGE) if "commands" not in p.relative_to(PACKAGE).parts and p.name != "cli.py"]
    allowed = lambda name: not (name == "digitnet.commands" or name.startswith("digitnet.commands."))
    assert violations(files, allowed) == []


@pytest.mark.parametrize(
    "source, wrong",
    [
        ("import digitnet.zoo\n", "digitnet.zoo"),
        ("def f():\n    from digitnet.commands import train\n", "digitnet.commands"),
        ("from ...data import load\n", "digitnet.data"),
    ],
)
def test_the_check_catches_a_wrong_way_import(source, wrong):
    probe = PACKAGE / "nn" / "layers" / "probe.py"  # parsed as if it were this module; never written
    names = [name for _, name in imports(probe, source)]
    assert any(name == wrong or name.startswith(wrong + ".") for name in names)
    inside = lambda name: not _digitnet(name) or name.startswith("digitnet.nn")
    assert not all(inside(name) for name in names)
