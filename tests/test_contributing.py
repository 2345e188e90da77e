"""CONTRIBUTING.md is the house rule book: what it names exists, and nothing points elsewhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "CONTRIBUTING.md"
# A repository path in backticks: has a folder or a file suffix, and no placeholder in it.
PATH = re.compile(r"`([\w./-]+(?:/[\w./-]*|\.(?:py|ipynb|md|cfg|toml|yml|json)))`")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    suffixes = {".py", ".md", ".cfg", ".toml", ".yml", ".txt", ".ipynb", ""}
    return [ROOT / name for name in listed if Path(name).suffix in suffixes]


def test_every_file_the_guide_names_exists():
    named = {match for match in PATH.findall(GUIDE.read_text()) if "<" not in match}
    named = {name for name in named if "NN" not in name and not name.startswith(".venv")}
    assert len(named) > 20, "the recipes name the files they touch"
    # Names are written as a reader finds them: from the root, in the package or notebooks.
    places = (ROOT, ROOT / "crmlab", ROOT / "notebooks" / "solutions")
    missing = sorted(
        name for name in named if not any((place / name.rstrip("/")).exists() for place in places)
    )
    assert missing == [], f"CONTRIBUTING.md names files that do not exist: {missing}"


def test_no_file_points_to_a_design_document_outside_the_repository():
    offenders = []
    for path in _tracked_text_files():
        if not path.is_file() or path.name == "test_contributing.py":
            continue
        text = path.read_text(errors="ignore")
        if re.search(r"DESIGN(?:\.md| §)", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], f"these files cite a document that does not ship: {offenders}"


def test_make_help_and_readme_point_to_the_guide():
    help_text = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "CONTRIBUTING.md" in help_text
    assert "CONTRIBUTING.md" in (ROOT / "README.md").read_text()
