"""The arrows between apps point one way (docs/architecture.md): import-linter checks the
contracts in pyproject.toml, so an import that points back fails the suite."""

from importlinter.cli import lint_imports

from conftest import ROOT


def test_every_import_follows_the_layer_contracts(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert exit_code == 0, capsys.readouterr().out
