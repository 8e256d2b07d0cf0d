"""The docs live in the repository and stay usable from a fresh clone: the README stays short,
every relative link resolves, nothing points outside the checkout, and every environment
variable the settings read is documented."""

import re
import subprocess
from pathlib import Path

from conftest import ROOT

README = ROOT / "README.md"
DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))
BASE_SETTINGS = ROOT / "config" / "settings" / "base.py"
CONFIGURATION_PAGE = ROOT / "docs" / "configuration.md"

README_MAX_LINES = 200
# Markdown links `[text](target)`; the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# `env("NAME"`, `env.int("NAME"`, `env.db("NAME"` …, the name possibly on the next line.
ENV_READ = re.compile(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"")
# Paths of the machine the project was first written on, which a clone does not have
# (joined here so this file does not itself mention them).
OUTSIDE_PATHS = (b"../" + b"shared", b"/" + b"work/")


def relative_link_targets(page: Path) -> list[str]:
    targets = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor on the same page
        targets.append(target.split("#", 1)[0])
    return targets


def tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [ROOT / name for name in listing.decode().split("\0") if name]


def test_readme_is_at_most_200_lines():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_every_relative_link_in_the_readme_and_docs_resolves_to_a_file_in_the_repository():
    assert DOC_PAGES, "docs/ has no pages"
    broken = [
        f"{page.relative_to(ROOT)} → {target}"
        for page in [README, *DOC_PAGES]
        for target in relative_link_targets(page)
        if not (page.parent / target).resolve().is_relative_to(ROOT)
        or not (page.parent / target).resolve().exists()
    ]
    assert not broken, broken


def test_no_tracked_file_refers_to_a_path_outside_the_repository():
    this_file = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(ROOT)} mentions {needle.decode()}"
        for path in tracked_files()
        if path.resolve() != this_file and path.is_file()
        for needle in OUTSIDE_PATHS
        if needle in path.read_bytes()
    ]
    assert not offenders, offenders


def test_every_environment_variable_read_by_the_settings_is_named_in_configuration_md():
    names = set(ENV_READ.findall(BASE_SETTINGS.read_text(encoding="utf-8")))
    assert len(names) > 50, f"found only {sorted(names)}: has the way settings are read changed?"
    documented = CONFIGURATION_PAGE.read_text(encoding="utf-8")
    missing = sorted(name for name in names if f"`{name}`" not in documented)
    assert not missing, f"not in docs/configuration.md: {missing}"
