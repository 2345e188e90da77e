"""The course website (``make site``): built offline from committed outputs, walked in a browser.

The site is built once for this module into a temporary copy of ``_build`` (the
repository's own ``_build/`` is left alone). Static checks read the HTML; the browser test
drives Debian's chromium through Playwright, serves the pages from 127.0.0.1 and blocks
every other host, so a page that needs the network fails here. Without chromium the
browser test skips, unless ``CRMLAB_REQUIRE_BROWSER=1``.

Screenshots go to ``/tmp/crmlab_screens/site_*.png`` for a human to look at.
"""

from __future__ import annotations

import functools
import html as htmllib
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SITE_TOOLS = REPO / "course" / "site"
SCREENS = Path("/tmp/crmlab_screens")

pytest.importorskip("sphinx", reason="the course extra (pip install -e '.[course]') is needed")
pytest.importorskip("myst_nb", reason="the course extra (pip install -e '.[course]') is needed")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_course_site_{name}", SITE_TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site once, into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, CRMLAB_SITE_OUT=str(out))
    done = subprocess.run(
        [sys.executable, str(SITE_TOOLS / "build.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "built" in done.stdout
    return out / "html"


def _notebooks() -> list[Path]:
    return sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _png_outputs(path: Path) -> int:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
    )


def test_no_broken_links_and_nothing_from_another_host(html: Path) -> None:
    report = _load("linkcheck").check_site(html)
    assert report.problems == []
    assert report.pages >= len(_notebooks()) + 3
    assert report.checked > 100


def test_link_checker_finds_a_broken_link_and_a_cdn_script(html: Path, tmp_path: Path) -> None:
    broken = tmp_path / "html"
    shutil.copytree(html, broken)
    page = broken / "index.html"
    text = page.read_text(encoding="utf-8")
    text = text.replace(
        "</body>",
        '<a href="notebooks/99_missing.html">x</a><a href="syllabus.html#nowhere">y</a>'
        '<script src="https://cdn.example.org/x.js"></script></body>',
    )
    page.write_text(text, encoding="utf-8")
    problems = " ".join(_load("linkcheck").check_site(broken).problems)
    assert "99_missing.html" in problems
    assert "#nowhere" in problems
    assert "another host" in problems


def test_every_notebook_has_a_page_with_every_figure(html: Path) -> None:
    assert _notebooks(), "no student notebooks to render"
    for notebook in _notebooks():
        page = html / "notebooks" / f"{notebook.stem}.html"
        assert page.exists(), f"no page for {notebook.name}"
        text = page.read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]+src="(\.\./_images/[^"]+\.png)"', text)
        assert len(images) == _png_outputs(notebook), notebook.name
        for src in images:
            assert (page.parent / src).resolve().stat().st_size > 1000, src


def test_pages_show_the_committed_outputs_and_no_raw_widgets(html: Path) -> None:
    shown = 0
    for notebook in _notebooks():
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        printed = [
            line.strip()
            for c in cells
            for o in c.get("outputs", [])
            if o.get("output_type") == "stream"
            for line in "".join(o.get("text", "")).splitlines()
            if len(line.strip()) > 8
        ]
        page = (html / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)).split())
        for line in printed[:3]:
            assert " ".join(line.split()) in text, (notebook.name, line)
            shown += 1
        assert "widget-view+json" not in page, notebook.name
    assert shown > 0, "no printed output found in any notebook"


def test_api_reference_comes_from_the_numpydoc_docstrings(html: Path) -> None:
    text = (html / "api" / "crmlab.clv.html").read_text(encoding="utf-8")
    assert "simple_clv" in text and "max_acquisition_cost" in text
    # numpydoc turns the Parameters section into a field list
    assert "Parameters" in text and "margin" in text
    index = (html / "index.html").read_text(encoding="utf-8")
    assert 'href="api/index.html"' in index and 'href="syllabus.html"' in index


def test_slides_of_two_history_chapters_and_one_methods_chapter(html: Path) -> None:
    decks = sorted(p.name[:2] for p in (html / "slides").glob("[0-9][0-9]_*.html"))
    assert decks == ["01", "02", "05"]
    text = next((html / "slides").glob("05_*.html")).read_text(encoding="utf-8")
    assert "_static/revealjs/dist/reveal.js" in text and '"view": "scroll"' in text
    assert (html / "slides" / "_static" / "revealjs" / "dist" / "reveal.js").exists()
    index = (html / "index.html").read_text(encoding="utf-8")
    assert index.count('href="slides/') == 3


def test_syllabus_page_links_to_rendered_notebooks(html: Path) -> None:
    text = (html / "syllabus.html").read_text(encoding="utf-8")
    assert "Ten-week plan" in text and "Five-day workshop" in text
    assert re.search(r'href="notebooks/0\d_[a-z_]+\.html"', text)


# --------------------------------------------------------------------- in a real browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    reason = "no chromium found (apt-get install chromium); the site's browser test needs it"
    if os.environ.get("CRMLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CRMLAB_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served(html: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _chapter_with_figure_and_math(html: Path) -> str:
    for page in sorted((html / "notebooks").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        if "../_images/" in text and re.search(r'class="math[^"]*"', text):
            return f"notebooks/{page.name}"
    pytest.fail("no chapter page has both a figure and an equation")


def test_browser_walks_home_to_a_chapter_with_figures_and_equations(
    html: Path, served: str
) -> None:
    path = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) missing")
    SCREENS.mkdir(exist_ok=True)
    target = _chapter_with_figure_and_math(html)
    outside: list[str] = []
    failed: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=path,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def route(r: object) -> None:
                if r.request.url.startswith(served):
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("requestfailed", lambda req: failed.append(req.url))
            page.goto(f"{served}/index.html", wait_until="networkidle")
            assert "crmlab" in page.title()
            page.screenshot(path=str(SCREENS / "site_home.png"))

            page.locator(f'article a[href="{target}"]').first.click()
            page.wait_for_load_state("networkidle")
            assert page.url.endswith(target)
            # MathJax (the site's own copy) replaces each math span by an mjx-container.
            page.wait_for_selector("mjx-container", timeout=30_000)
            n_math = page.locator("mjx-container").count()
            assert n_math >= 1
            assert page.locator(".math").count() >= 1
            raw = page.evaluate(
                "() => Array.from(document.querySelectorAll('.math'))"
                ".filter(e => !e.querySelector('mjx-container')).length"
            )
            assert raw == 0, f"{raw} equations were left as raw TeX"
            figures = page.locator("img[src*='_images/']")
            assert figures.count() >= 1
            widths = page.evaluate(
                "() => Array.from(document.querySelectorAll(\"img[src*='_images/']\"))"
                ".map(i => i.naturalWidth)"
            )
            assert all(w > 100 for w in widths), widths
            figures.first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENS / "site_chapter_figure.png"))
            page.locator("mjx-container").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENS / "site_chapter_equation.png"))

            page.goto(f"{served}/api/crmlab.clv.html", wait_until="networkidle")
            assert page.locator("dt#crmlab\\.clv\\.simple_clv").count() == 1

            # The slides: reveal.js from the site itself, equations by the same MathJax.
            page.goto(f"{served}/index.html", wait_until="networkidle")
            deck = page.locator('a[href^="slides/05_"]').first.get_attribute("href")
            page.goto(f"{served}/{deck}", wait_until="networkidle")
            page.wait_for_function("() => window.Reveal && window.Reveal.isReady()")
            assert page.evaluate("() => Reveal.getTotalSlides()") >= 4
            page.wait_for_selector("mjx-container", timeout=30_000)
            page.screenshot(path=str(SCREENS / "site_slides.png"))
        finally:
            browser.close()
    assert outside == [], f"the site asked another host for {outside[:5]}"
    assert [u for u in failed if u.startswith(served)] == []
