"""Sphinx configuration of the slides (reveal.js, through sphinx-revealjs), see build.py.

Each section of a notebook becomes one slide, in reveal.js's scroll view, because a
notebook section is longer than a lecture slide. sphinx-revealjs ships reveal.js inside
its wheel and MathJax comes from sphinx-mathjax-offline: nothing is fetched from a CDN.
"""

from __future__ import annotations

project = "crmlab"
author = "crmlab developers"
copyright = "crmlab developers, MIT licence"

extensions = ["myst_nb", "sphinx_revealjs", "sphinx.ext.mathjax", "sphinx-mathjax-offline"]
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]
nb_execution_mode = "off"
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath"]
mathjax_path = "mathjax/tex-chtml.js"
# The revealjs builder has no priority list of its own: the HTML one, widgets excluded.
nb_mime_priority_overrides = [
    ("revealjs", mime, priority)
    for mime, priority in (
        ("text/html", 30),
        ("image/svg+xml", 40),
        ("image/png", 50),
        ("image/jpeg", 60),
        ("text/markdown", 70),
        ("text/latex", 80),
        ("text/plain", 90),
    )
]
revealjs_style_theme = "white"
revealjs_script_conf = {
    "controls": True,
    "progress": True,
    "hash": True,
    "center": False,
    "view": "scroll",
    "width": 1280,
    "height": 800,
}
revealjs_static_path = ["_static"]
revealjs_css_files = ["slides.css"]
suppress_warnings = ["toc.not_included"]
