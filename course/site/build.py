"""Build the course website into ``_build/site/html`` (``make site``), offline.

Sphinx + MyST-NB renders what is committed, without executing anything:

- the student edition ``notebooks/*.ipynb`` with its saved outputs (whatever notebooks
  exist, in file order, so that renamed or new chapters appear without editing this file);
- the syllabus (``course/syllabus.md``) and the problem sets' student copies;
- the API reference, from crmlab's numpydoc docstrings (``autodoc`` + ``numpydoc``);
- reveal.js slides of chapters 01, 02 and 05 (``sphinx-revealjs``) into ``slides/``.

Sphinx wants every page under one source folder, so the pages are first staged into
``_build/site/src`` (the repository's files are only read). Saved widget views are
replaced there by a sentence: a static page cannot run the kernel behind a widget, and
their JavaScript would come from a CDN.

Usage::

    python course/site/build.py            # build; warnings are printed, not fatal
    python course/site/build.py --strict   # warnings are errors
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

SITE = Path(__file__).resolve().parent
KIT = SITE.parent
REPO = KIT.parent
# CRMLAB_SITE_OUT moves the build elsewhere (the tests build into a temporary folder).
OUT = Path(os.environ.get("CRMLAB_SITE_OUT") or REPO / "_build" / "site")
SRC = OUT / "src"
HTML = OUT / "html"
SLIDES_SRC = OUT / "slides-src"

# Slides of the two history chapters and one methods chapter, by number (names may change).
SLIDE_CHAPTERS = ("01", "02", "05")

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    '<p class="widget-note"><em>Interactive widget: open this notebook in JupyterLab '
    "(<code>make lab</code>) to use it.</em></p>"
)

# Modules of the API reference, one page each, in reading order.
API_MODULES = [
    ("crmlab.datasets", "Data sets"),
    ("crmlab.transactions", "Transaction logs and summaries"),
    ("crmlab.rfm", "RFM scores"),
    ("crmlab.retention", "Retention"),
    ("crmlab.clv", "Customer lifetime value"),
    ("crmlab.models", "Models"),
    ("crmlab.simulate", "Simulation"),
    ("crmlab.targeting", "Targeting"),
    ("crmlab.history", "History of CRM"),
    ("crmlab.plots", "Plots"),
    ("crmlab.widgets", "Widgets"),
]


def _without_widgets(notebook: dict) -> dict:
    """A copy of ``notebook`` whose widget outputs are a note instead."""
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook.get("cells", []):
        outputs = []
        for output in cell.get("outputs", []):
            if WIDGET_MIME in output.get("data", {}):
                output = {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/html": WIDGET_NOTE, "text/plain": "(interactive widget)"},
                }
            outputs.append(output)
        if "outputs" in cell:
            cell["outputs"] = outputs
    notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def _title(notebook_path: Path) -> str:
    cells = json.loads(notebook_path.read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook_path.stem


def _copy_notebooks(sources: list[Path], folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sources:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        (folder / path.name).write_text(json.dumps(_without_widgets(notebook)), encoding="utf-8")
        names.append(path.stem)
    return names


def _syllabus_text() -> str:
    """The syllabus, with its links to notebooks pointing at the rendered pages."""
    text = (KIT / "syllabus.md").read_text(encoding="utf-8")

    # In the repository the syllabus links ../notebooks/NN.ipynb; on the site they sit in
    # notebooks/ beside it. A chapter not written yet stays as plain text, with a warning,
    # rather than a broken link.
    def relink(match: re.Match[str]) -> str:
        label, name = match.group(1), match.group(2)
        if (REPO / "notebooks" / name).exists():
            return f"[{label}](notebooks/{name})"
        print(f"warning: the syllabus names notebooks/{name}, which does not exist yet")
        return label

    return re.sub(r"\[([^\]]+)\]\(\.\./notebooks/([^)]+\.ipynb)\)", relink, text)


def stage() -> None:
    """Copy the pages into ``SRC``: configuration, notebooks, syllabus, API stubs."""
    if SRC.exists():
        shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    shutil.copyfile(SITE / "conf.py", SRC / "conf.py")
    chapters = _copy_notebooks(
        sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")), SRC / "notebooks"
    )
    problem_sets = _copy_notebooks(
        sorted((KIT / "problem-sets" / "student").glob("ps*.ipynb")), SRC / "problem-sets"
    )
    (SRC / "syllabus.md").write_text(_syllabus_text(), encoding="utf-8")
    api = SRC / "api"
    api.mkdir()
    for module, title in API_MODULES:
        (api / f"{module}.md").write_text(
            f"# {title}: `{module}`\n\n```{{eval-rst}}\n.. automodule:: {module}\n"
            "   :members:\n```\n",
            encoding="utf-8",
        )
    (api / "index.md").write_text(
        "# API reference\n\nEvery public function of crmlab, from its docstring.\n\n"
        "```{toctree}\n:maxdepth: 1\n\n" + "\n".join(m for m, _ in API_MODULES) + "\n```\n",
        encoding="utf-8",
    )
    chapter_rows = "\n".join(
        f"| {name[:2]} | [{_title(SRC / 'notebooks' / f'{name}.ipynb')}](notebooks/{name}.ipynb) |"
        for name in chapters
    )
    slides = "\n".join(
        f'- <a href="slides/{p.stem}.html">{_title(p)}</a>' for p in _slide_notebooks()
    )
    (SRC / "index.md").write_text(
        (SITE / "index.md")
        .read_text(encoding="utf-8")
        .format(
            slides=slides or "- (no slides)",
            chapters=chapter_rows,
            chapter_toc="\n".join(f"notebooks/{name}" for name in chapters),
            problem_set_toc="\n".join(f"problem-sets/{name}" for name in problem_sets),
        ),
        encoding="utf-8",
    )


def _slide_notebooks() -> list[Path]:
    return [
        path
        for number in SLIDE_CHAPTERS
        for path in sorted((REPO / "notebooks").glob(f"{number}_*.ipynb"))[:1]
    ]


def stage_slides() -> list[str]:
    """Copy the slide chapters and the slides' configuration into ``SLIDES_SRC``."""
    if SLIDES_SRC.exists():
        shutil.rmtree(SLIDES_SRC)
    (SLIDES_SRC / "_static").mkdir(parents=True)
    shutil.copyfile(SITE / "slides_conf.py", SLIDES_SRC / "conf.py")
    shutil.copyfile(SITE / "slides.css", SLIDES_SRC / "_static" / "slides.css")
    names = _copy_notebooks(_slide_notebooks(), SLIDES_SRC)
    (SLIDES_SRC / "index.md").write_text(
        "# crmlab slides\n\n```{toctree}\n:maxdepth: 1\n\n" + "\n".join(names) + "\n```\n",
        encoding="utf-8",
    )
    return names


def _sphinx(builder: str, source: Path, target: Path, doctrees: Path, strict: bool) -> None:
    command = [sys.executable, "-m", "sphinx", "-b", builder, "-q", str(source), str(target)]
    command += ["-d", str(doctrees)]
    if strict:
        command.append("-W")
    done = subprocess.run(command, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"sphinx-build -b {builder} failed (exit {done.returncode})")


def build(strict: bool = False) -> Path:
    """Stage and run ``sphinx-build`` (pages, then slides); returns the pages' folder."""
    start = time.perf_counter()
    stage()
    _sphinx("html", SRC, HTML, OUT / "doctrees", strict)
    if stage_slides():
        _sphinx("revealjs", SLIDES_SRC, HTML / "slides", OUT / "doctrees-slides", strict)
    print(f"built {HTML / 'index.html'} in {time.perf_counter() - start:.1f} s")
    return HTML


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="turn warnings into errors")
    args = parser.parse_args(argv)
    build(strict=args.strict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
