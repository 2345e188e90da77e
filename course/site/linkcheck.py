"""Offline link checker for the built site: every internal link and resource must exist.

It reads the HTML files themselves (no server, no network) and reports

- internal links (``<a href>``) to a file that is not in the site, or to an ``#anchor``
  that the target page does not define;
- resources (``<img src>``, ``<script src>``, stylesheets, fonts preloaded with
  ``<link href>``) that are missing, or that would be fetched from another host: the site
  must work without the network, so every resource has to be in it.

Links to other sites (``<a href="https://...">``) are allowed and counted, not followed.

Usage::

    python course/site/linkcheck.py [_build/site/html]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT = Path(__file__).resolve().parents[2] / "_build" / "site" / "html"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (kind, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in ("id", "name"):
            if values.get(name) and (name == "id" or tag == "a"):
                self.ids.add(values[name])
        if tag == "a" and "href" in values:
            self.links.append(("link", values["href"]))
        elif tag in ("img", "script", "source", "iframe") and values.get("src"):
            self.links.append(("resource", values["src"]))
        elif tag == "link" and values.get("href"):
            rel = values.get("rel", "")
            fetched = any(r in rel for r in ("stylesheet", "preload", "icon"))
            kind = "resource" if fetched else "link"
            self.links.append((kind, values["href"]))


@dataclass
class Report:
    pages: int = 0
    checked: int = 0
    external_links: int = 0
    problems: list[str] = field(default_factory=list)


def _parse(path: Path, cache: dict[Path, _Page]) -> _Page:
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def check_site(root: Path = DEFAULT) -> Report:
    """Check every ``*.html`` under ``root``; returns what was checked and what is wrong."""
    root = Path(root).resolve()
    if not (root / "index.html").exists():
        raise ValueError(f"no site at {root}: build it first with `make site`")
    report = Report()
    cache: dict[Path, _Page] = {}
    for page_path in sorted(root.rglob("*.html")):
        if "_static" in page_path.relative_to(root).parts:
            continue  # the theme's template fragments, not pages
        report.pages += 1
        page = _parse(page_path, cache)
        where = page_path.relative_to(root)
        for kind, url in page.links:
            parts = urlsplit(url)
            if parts.scheme in ("mailto", "javascript", "data", "tel"):
                continue
            if parts.scheme or parts.netloc:
                if kind == "resource":
                    report.problems.append(f"{where}: resource from another host: {url}")
                else:
                    report.external_links += 1
                continue
            report.checked += 1
            target = page_path if not parts.path else (page_path.parent / unquote(parts.path))
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists() or (root not in target.parents and target != root):
                report.problems.append(f"{where}: broken {kind} {url}")
                continue
            if parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in _parse(target, cache).ids:
                    report.problems.append(f"{where}: no anchor #{parts.fragment} in {url}")
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    report = check_site(Path(argv[0]) if argv else DEFAULT)
    for problem in report.problems:
        print(problem)
    print(
        f"{report.pages} pages, {report.checked} internal links and resources checked, "
        f"{report.external_links} links to other sites, {len(report.problems)} problems"
    )
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
