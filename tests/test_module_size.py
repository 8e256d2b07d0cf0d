"""No app module grows past ~500 lines (docs/conventions.md): past that, it becomes a package
with one module per concern."""

from pathlib import Path

from conftest import ROOT

MAX_LINES = 500
# Tests, migrations, benchmarks and developer scripts are not app modules.
EXEMPT = {"tests", "migrations", "bench", "scripts"}


def oversized(root: Path) -> list[str]:
    """`path: lines` for every app module under `root` longer than MAX_LINES."""
    found = []
    for top in sorted(root.iterdir()):
        if not top.is_dir() or top.name.startswith(".") or top.name in EXEMPT:
            continue
        for path in sorted(top.rglob("*.py")):
            relative = path.relative_to(root)
            if EXEMPT & set(relative.parts):
                continue
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                found.append(f"{relative}: {lines}")
    return found


def test_no_app_module_is_over_500_lines():
    assert oversized(ROOT) == []


def test_the_check_sees_a_long_app_module_but_not_tests_migrations_or_benchmarks(tmp_path):
    def write(relative: str, lines: int) -> None:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n" * lines)

    write("app/long.py", MAX_LINES + 1)
    write("app/just_fits.py", MAX_LINES)
    write("app/sub/deep.py", MAX_LINES + 2)
    write("app/tests/test_long.py", 900)
    write("app/migrations/0001_initial.py", 900)
    write("bench/long.py", 900)
    write("scripts/long.py", 900)
    write(".venv/lib/long.py", 900)
    assert oversized(tmp_path) == [
        f"app/long.py: {MAX_LINES + 1}",
        f"app/sub/deep.py: {MAX_LINES + 2}",
    ]
