"""The shipped type stubs describe every public name of the native module."""

from __future__ import annotations

import ast
import pathlib

import conjure
from conjure import _core

STUB = pathlib.Path(conjure.__file__).with_name("_core.pyi")


def _stub_names() -> tuple[set[str], dict[str, set[str]]]:
    tree = ast.parse(STUB.read_text())
    top: set[str] = set()
    members: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
        if isinstance(node, ast.ClassDef):
            members[node.name] = {
                n.name if isinstance(n, ast.FunctionDef) else n.target.id  # type: ignore[union-attr]
                for n in node.body
                if isinstance(n, ast.FunctionDef) or (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name))
            }
    return top, members


def test_stub_lists_every_public_function_and_class_of_the_native_module():
    top, _ = _stub_names()
    public = {n for n in dir(_core) if not n.startswith("_")}
    assert public - top == set()


def test_stub_lists_every_public_method_of_each_native_class():
    _, members = _stub_names()
    for name, cls in vars(_core).items():
        if name.startswith("_") or not isinstance(cls, type) or name not in members:
            continue
        public = {m for m in vars(cls) if not m.startswith("_")}
        assert public - members[name] == set(), name
