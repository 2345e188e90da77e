"""Sphinx configuration of the course website (built by ``make site``; see build.py).

Sphinx + MyST-NB renders the committed outputs of the student edition (no execution),
the syllabus and the API reference from crmlab's numpydoc docstrings. Everything the
pages load is copied into the site: MathJax from the ``sphinx-mathjax-offline`` package,
the theme's own fonts and scripts; nothing is fetched from a CDN.
"""

from __future__ import annotations

import crmlab

project = "crmlab"
author = "crmlab developers"
copyright = "crmlab developers, MIT licence"
release = crmlab.__version__ if hasattr(crmlab, "__version__") else ""

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    # Copies MathJax 3 into _static/mathjax and points mathjax_path at it.
    "sphinx-mathjax-offline",
]

# The staging folder holds only what build.py copied in.
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# Committed outputs only: the site shows what the notebooks showed when they were run.
nb_execution_mode = "off"
nb_merge_streams = True
# Saved widget views need the widget manager from a CDN; build.py replaces them with a note.
nb_ipywidgets_js = {}

myst_enable_extensions = ["dollarmath", "amsmath", "deflist", "colon_fence"]
myst_heading_anchors = 3

mathjax_path = "mathjax/tex-chtml.js"
mathjax3_config = {"tex": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]}}

autodoc_default_options = {"members": True, "undoc-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()

html_theme = "sphinx_book_theme"
html_title = "crmlab: Customer Relationship Management in Jupyter"
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_source_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "navigation_with_keys": False,
}
html_static_path: list[str] = []
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
suppress_warnings = ["mystnb.unknown_mime_type"]
