"""Imports sit at the top of a module, where a reader and the layer contracts see them; only
`AppConfig.ready` (the app registry must be ready) and management commands import later."""

import ast

from conftest import ROOT

APPS = ("config", "core", "accounts", "credit", "appeals", "notifications")
LATE_IMPORTS_ALLOWED_IN = {"ready"}


def late_imports(source: str, label: str) -> list[str]:
    """`label:line in function()` for every import inside a function not allowed one."""
    found = []

    def visit(node, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                if function is not None and function not in LATE_IMPORTS_ALLOWED_IN:
                    found.append(f"{label}:{child.lineno} in {function}()")
            else:
                visit(child, function)

    visit(ast.parse(source), None)
    return found


def test_no_app_module_imports_inside_a_function():
    late = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            label = str(path.relative_to(ROOT))
            if not {"tests", "migrations", "management"} & set(path.relative_to(ROOT).parts):
                late += late_imports(path.read_text(), label)
    assert late == []


def test_the_check_sees_an_import_inside_a_function_but_not_in_ready():
    source = (
        "import os\n\n\ndef late():\n    if os:\n        import json\n\n\n"
        "class App:\n    def ready(self):\n        import signal\n"
    )
    assert late_imports(source, "planted.py") == ["planted.py:6 in late()"]
