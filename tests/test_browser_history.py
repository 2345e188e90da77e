"""The Persian timeline in a real browser: right to left, with formulas left to right.

Runs the timeline widget in JupyterLab under Debian's chromium (fixtures of
``tests/test_browser.py``; skips without chromium unless ``CRMLAB_REQUIRE_BROWSER=1``)
and measures what the browser drew: the Persian text is right-aligned in a right-to-left
block, the formula ``1/(1+d)`` inside a Persian sentence is laid out left to right, and
the same sentence without the isolates crmlab adds would have been reordered. The
screenshot goes to ``/tmp/crmlab_screens/lab_history_fa.png``.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from test_browser import (  # noqa: F401  (fixtures are found by name)
    KERNEL_IDLE,
    UI_TIMEOUT_MS,
    ConsoleLog,
    browser_context,
    chromium_path,
    lab,
    screenshot,
)

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": [
                "import crmlab as cl\n",
                'cl.widgets.timeline_explorer(lang="fa", start=1995, end=2004)',
            ],
        }
    ],
    "metadata": {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        }
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}

# Where the browser drew each character of the formula 1/(1+d), in the widget and in a copy
# of the same sentence stripped of its isolates; and the geometry of a short Persian title.
MEASURE = """() => {
  const readout = document.querySelector('.crmlab-timeline-readout .crmlab-history');
  const walker = document.createTreeWalker(readout, NodeFilter.SHOW_TEXT);
  let node = null;
  while (walker.nextNode()) {
    if (walker.currentNode.data.includes('1/(1+d)')) { node = walker.currentNode; break; }
  }
  const lefts = (textNode) => {
    const start = textNode.data.indexOf('1/(1+d)');
    return [...'1/(1+d)'].map((_, i) => {
      const range = document.createRange();
      range.setStart(textNode, start + i);
      range.setEnd(textNode, start + i + 1);
      return range.getBoundingClientRect().left;
    });
  };
  const bare = document.createElement('div');
  bare.dir = 'rtl';
  bare.textContent = node.data.replace(/[\\u2066-\\u2069]/g, '');
  readout.appendChild(bare);
  const unisolated = lefts(bare.firstChild);
  bare.remove();
  const style = getComputedStyle(readout);
  const item = [...readout.querySelectorAll('li.crmlab-event')].find(
    (li) => li.querySelector('b').textContent.includes('۲۰۰۳'));
  const title = item.querySelector('b').getBoundingClientRect();
  const box = item.getBoundingClientRect();
  const source = getComputedStyle(item.querySelector('.crmlab-source'));
  return {
    isolated: lefts(node), unisolated, direction: style.direction, align: style.textAlign,
    titleLeft: title.left, titleRight: title.right, boxLeft: box.left, boxRight: box.right,
    sourceDirection: source.direction,
  };
}"""


def _upload(server: dict, name: str) -> None:
    request = urllib.request.Request(
        f"{server['url']}/api/contents/{name}?token={server['token']}",
        data=json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status in (200, 201)


def test_persian_timeline_is_right_aligned_and_its_formula_reads_left_to_right(
    lab: dict,  # noqa: F811
    browser_context,  # noqa: F811
    tmp_path: Path,
) -> None:
    _upload(lab, "history_fa.ipynb")
    page = browser_context.new_page()
    console = ConsoleLog(page)
    try:
        page.goto(f"{lab['url']}/lab/tree/history_fa.ipynb?token={lab['token']}")
        page.wait_for_function(KERNEL_IDLE, timeout=UI_TIMEOUT_MS)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.locator(".crmlab-timeline-readout .crmlab-event").first.wait_for(timeout=UI_TIMEOUT_MS)
        page.wait_for_function(KERNEL_IDLE, timeout=UI_TIMEOUT_MS)
        # The screenshot shows the event with the formula, for a human to look at.
        page.locator("li.crmlab-event", has_text="۲۰۰۳").scroll_into_view_if_needed()
        shot = screenshot(page, tmp_path, "lab_history_fa")
        assert shot.stat().st_size > 10_000
        seen = page.evaluate(MEASURE)
        assert seen["direction"] == "rtl" and seen["align"] == "right"
        # A short title hugs the right edge of its line and leaves the left side empty.
        assert seen["boxRight"] - seen["titleRight"] < 2, seen
        assert seen["titleLeft"] - seen["boxLeft"] > 200, seen
        # 1/(1+d) is drawn in reading order, left to right ...
        assert seen["isolated"] == sorted(seen["isolated"]), seen["isolated"]
        # ... which it would not be without the isolates: the browser reorders it.
        assert seen["unisolated"] != sorted(seen["unisolated"]), seen["unisolated"]
        assert seen["sourceDirection"] == "ltr"
        assert not console.ours(), console.errors
    finally:
        page.close()
