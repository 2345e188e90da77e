"""Real-browser tests: JupyterLab and Voilà driven by Debian's chromium.

Playwright for Python drives the system chromium through ``executable_path`` (the
browsers that ``playwright install`` downloads cannot be fetched here). Servers run
on 127.0.0.1 with a token, a temporary HOME and temporary Jupyter directories, and
the browser may reach nothing but them. Without chromium the tests skip, unless
``CRMLAB_REQUIRE_BROWSER=1`` (CI), where they fail.

Screenshots go to the test's temporary folder and are copied to
``/tmp/crmlab_screens/`` for a human to look at.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmlab as cl

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SCREENS = Path("/tmp/crmlab_screens")
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 60.0
UI_TIMEOUT_MS = 60_000

CLV_NOTEBOOK = """{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# CLV calculator under test"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
   "source": ["import crmlab as cl\\n", "w = cl.widgets.clv_calculator()\\n", "w"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                              "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5
}
"""


KERNEL_IDLE = (
    "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
    " && window.jupyterapp.shell.currentWidget.sessionContext"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
    " === 'idle'"
)


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        reason = "no chromium found (apt-get install chromium); browser tests need it"
        if os.environ.get("CRMLAB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CRMLAB_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) not installed")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_env(base: Path) -> dict[str, str]:
    """Environment of a server that reads and writes nothing outside ``base``."""
    env = dict(os.environ)
    for name in ("home", "config", "data", "runtime", "ipython", "mpl"):
        (base / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(base / "home"),
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        IPYTHONDIR=str(base / "ipython"),
        MPLCONFIGDIR=str(base / "mpl"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("JUPYTER_PATH", None)
    # No "get Jupyter news?" pop-up over the notebook.
    (base / "config" / "labconfig").mkdir(exist_ok=True)
    (base / "config" / "labconfig" / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}'
    )
    return env


def wait_for_http(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server not up after {SERVER_START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log: Path, ready_url: str) -> Iterator[None]:
    """Run a server until the block ends; always stop it (and its kernels)."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_http(ready_url, process, log)
            yield
        finally:
            # The server's own process group holds the kernels it started.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 9)
                process.wait(timeout=5)


def root_flag() -> list[str]:
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    (root / "clv_test.ipynb").write_text(CLV_NOTEBOOK)
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *root_flag(),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(command, isolated_env(base), base / "lab.log", f"{url}/api/status?token={token}"):
        yield {"url": url, "token": token, "log": base / "lab.log"}


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("voila")
    root = base / "dashboards"
    shutil.copytree(REPO_ROOT / "dashboards", root)
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(BIN / "voila"),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",
        f"--Voila.token={token}",
        # voila has no --allow-root (and runs as root without one)
        str(root),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(command, isolated_env(base), base / "voila.log", f"{url}/?token={token}"):
        yield {"url": url, "token": token, "log": base / "voila.log"}


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_path,
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 1280, "height": 1000},
        )
        # Only the local servers: a test that needs the network fails loudly here.
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:"))
                else route.abort()
            ),
        )
        try:
            yield context
        finally:
            context.close()


class ConsoleLog:
    """Errors a page wrote to the console or threw."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def ours(self) -> list[str]:
        """Errors that point at crmlab or at the widgets it builds."""
        keys = ("crmlab", "widget", "Widget", "Traceback", "pageerror")
        return [e for e in self.errors if any(k in e for k in keys)]


def screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENS / path.name)
    return path


def shown_value(page, css_class: str, scope: str = "") -> float:
    return float(page.locator(f"{scope} .{css_class}").first.get_attribute("data-value"))


def press_right(page, slider_class: str, times: int = 1) -> None:
    """Move a slider by keyboard: focus its handle, press the right arrow."""
    handle = page.locator(f".{slider_class} .noUi-handle").first
    handle.focus()
    for _ in range(times):
        page.keyboard.press("ArrowRight")


def slider_readout(page, slider_class: str) -> float:
    return float(page.locator(f".{slider_class} .widget-readout").first.inner_text())


def wait_value(page, css_class: str, expected: float) -> float:
    """Wait until the readout shows ``expected`` (to 1e-9 relative); return what it shows."""
    with contextlib.suppress(Exception):
        page.wait_for_function(
            """([cls, expected]) => {
                const el = document.querySelector('.' + cls);
                if (!el) return false;
                const v = parseFloat(el.dataset.value);
                return Math.abs(v - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
            }""",
            arg=[css_class, expected],
            timeout=UI_TIMEOUT_MS / 2,
        )
    return shown_value(page, css_class)


def wait_slider(page, slider_class: str, expected: float) -> float:
    with contextlib.suppress(Exception):
        page.wait_for_function(
            """([cls, expected]) => {
                const el = document.querySelector('.' + cls + ' .widget-readout');
                return el && Math.abs(parseFloat(el.textContent) - expected) < 1e-9;
            }""",
            arg=[slider_class, expected],
            timeout=UI_TIMEOUT_MS / 2,
        )
    return slider_readout(page, slider_class)


def test_clv_calculator_in_jupyterlab(lab: dict, browser_context, tmp_path: Path) -> None:
    page = browser_context.new_page()
    console = ConsoleLog(page)
    try:
        page.goto(f"{lab['url']}/lab/tree/clv_test.ipynb?token={lab['token']}")
        page.wait_for_function(KERNEL_IDLE, timeout=UI_TIMEOUT_MS)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.locator(".crmlab-clv-value").first.wait_for(timeout=UI_TIMEOUT_MS)
        before = shown_value(page, "crmlab-clv-value")
        assert before == pytest.approx(cl.clv.simple_clv(100, 0.8, 0.1))
        screenshot(page, tmp_path, "lab_clv_before")

        press_right(page, "crmlab-clv-retention")
        retention = wait_slider(page, "crmlab-clv-retention", 0.81)
        assert retention == pytest.approx(0.81)
        expected = cl.clv.simple_clv(100, 0.81, 0.1)
        after = wait_value(page, "crmlab-clv-value", expected)
        assert after != before
        assert after == pytest.approx(expected, rel=1e-12)
        assert page.locator(".crmlab-clv-value").first.inner_text() == f"{after:,.2f}"
        page.wait_for_function(KERNEL_IDLE, timeout=UI_TIMEOUT_MS)  # image redrawn too
        screenshot(page, tmp_path, "lab_clv_after")
        assert not console.ours(), console.errors
    finally:
        page.close()


@pytest.mark.parametrize(
    ("notebook", "slider", "readout"),
    [
        ("clv_calculator.ipynb", "crmlab-clv-retention", "crmlab-clv-value"),
        ("firm_simulator.ipynb", "crmlab-firms-retention", "crmlab-firms-customers-customer"),
    ],
)
def test_voila_dashboard_slider_changes_readout(
    voila: dict, browser_context, tmp_path: Path, notebook: str, slider: str, readout: str
) -> None:
    page = browser_context.new_page()
    console = ConsoleLog(page)
    try:
        page.goto(f"{voila['url']}/voila/render/{notebook}?token={voila['token']}")
        page.locator(f".{readout}").first.wait_for(timeout=UI_TIMEOUT_MS)
        # Voilà shows no code
        assert page.locator(".jp-InputArea-editor").count() == 0
        before = shown_value(page, readout)
        screenshot(page, tmp_path, f"voila_{Path(notebook).stem}_before")
        press_right(page, slider, times=3)
        if notebook == "clv_calculator.ipynb":
            target = 0.83
            expected = cl.clv.simple_clv(100, target, 0.1)
        else:
            target = 0.93
            expected = cl.simulate.simulate_firms(retention=(0.6, target))["customers"].iloc[-1]
        assert wait_slider(page, slider, target) == pytest.approx(target)
        after = wait_value(page, readout, expected)
        assert after != before
        assert after == pytest.approx(expected, rel=1e-12)
        screenshot(page, tmp_path, f"voila_{Path(notebook).stem}_after")
        assert not console.ours(), console.errors
    finally:
        page.close()
