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
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import free_port

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
def running(
    command: list[str], env: dict[str, str], log: Path, ready_url: str, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """Run a server until the block ends; always stop it (and its kernels)."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
        )
        try:
            wait_for_http(ready_url, process, log)
            yield process
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


def start_voila(base: Path, cull: dict | None = None) -> contextlib.AbstractContextManager:
    """Voilà on a copy of dashboards/, started there so that it reads its voila.json."""
    root = base / "dashboards"
    shutil.copytree(REPO_ROOT / "dashboards", root)
    if cull is not None:
        config = json.loads((root / "voila.json").read_text())
        for key, value in cull.items():
            assert key in config["MappingKernelManager"], key
            config["MappingKernelManager"][key] = value
        (root / "voila.json").write_text(json.dumps(config))
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(BIN / "voila"),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",
        f"--Voila.token={token}",
        # voila has no --allow-root (and runs as root without one)
        ".",
    ]
    url = f"http://127.0.0.1:{port}"

    @contextlib.contextmanager
    def served() -> Iterator[dict]:
        ready = f"{url}/?token={token}"
        with running(command, isolated_env(base), base / "voila.log", ready, cwd=root) as server:
            yield {"url": url, "token": token, "log": base / "voila.log", "pid": server.pid}

    return served()


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[dict]:
    with start_voila(tmp_path_factory.mktemp("voila")) as server:
        yield server


def kernels(server_pid: int) -> int:
    """Number of kernels the server at ``server_pid`` runs now."""
    import psutil

    count = 0
    for child in psutil.Process(server_pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "ipykernel" in " ".join(child.cmdline()):
                count += 1
    return count


def wait_kernels(server_pid: int, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and kernels(server_pid) != expected:
        time.sleep(0.5)
    return kernels(server_pid)


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


PROJECTOR = {"width": 1280, "height": 720}


def box_inside_screen(box: dict) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= PROJECTOR["width"]
        and box["y"] + box["height"] <= PROJECTOR["height"]
    )


@pytest.mark.parametrize(
    ("notebook", "css", "slider"),
    [
        ("clv_calculator.ipynb", "crmlab-clv", "crmlab-clv-retention"),
        ("firm_simulator.ipynb", "crmlab-firms", "crmlab-firms-retention"),
    ],
)
def test_dashboards_fit_a_projector(
    voila: dict, browser_context, tmp_path: Path, notebook: str, css: str, slider: str
) -> None:
    page = browser_context.new_page()
    page.set_viewport_size(PROJECTOR)
    console = ConsoleLog(page)
    try:
        page.goto(f"{voila['url']}/voila/render/{notebook}?token={voila['token']}")
        image = page.locator(f"img.{css}-image").first
        image.wait_for(timeout=UI_TIMEOUT_MS)
        page.wait_for_function(
            "(c) => { const i = document.querySelector('img.' + c + '-image');"
            " return i && i.complete && i.naturalWidth > 0; }",
            arg=css,
            timeout=UI_TIMEOUT_MS,
        )
        page.evaluate("window.scrollTo(0, 0)")
        figure = image.bounding_box()
        control = page.locator(f".{slider}").first.bounding_box()
        readout = page.locator(f".{css}-readout").first.bounding_box()
        # Figure, controls and numbers on one screen, the figure above or beside.
        for name, box in (("figure", figure), ("slider", control), ("readout", readout)):
            assert box_inside_screen(box), (name, box)
        above = figure["y"] + figure["height"] <= control["y"] + 1
        beside = figure["x"] >= control["x"] + control["width"] - 1
        assert above or beside, (figure, control)
        assert page.evaluate("document.documentElement.scrollWidth") <= PROJECTOR["width"]
        inner = page.locator(f".{css}-readout .widget-html-content").first
        assert inner.evaluate("e => e.scrollWidth <= e.clientWidth"), "the readout is cut off"
        label = page.locator(f".{slider} .widget-label").first
        assert float(label.evaluate("e => getComputedStyle(e).fontSize")[:-2]) >= 18
        assert figure["width"] >= 550, "the figure is drawn large for the room"
        screenshot_viewport(page, tmp_path, f"projector_{Path(notebook).stem}")

        # A drag of 25 pixels moves a few steps of 0.01, not the whole range...
        start = slider_readout(page, slider)
        handle = page.locator(f".{slider} .noUi-handle").first.bounding_box()
        x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 25, y, steps=5)
        page.mouse.up()
        page.wait_for_function(
            "([c, v]) => { const e = document.querySelector('.' + c + ' .widget-readout');"
            " return e && parseFloat(e.textContent) !== v; }",
            arg=[slider, start],
            timeout=UI_TIMEOUT_MS / 2,
        )
        dragged = slider_readout(page, slider)
        assert 0.01 - 1e-9 <= dragged - start <= 0.06 + 1e-9, (start, dragged)
        # ...and the arrow keys step by 0.01.
        press_right(page, slider)
        assert wait_slider(page, slider, round(dragged + 0.01, 2)) == pytest.approx(dragged + 0.01)
        assert not console.ours(), console.errors
    finally:
        page.close()


def screenshot_viewport(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENS / path.name)
    return path


def test_closing_a_dashboard_page_frees_its_kernel(voila: dict, browser_context) -> None:
    before = kernels(voila["pid"])
    page = browser_context.new_page()
    # Through the address `make dashboard` prints, the list of dashboards: it sets the
    # _xsrf cookie that Voilà's shutdown request needs (a page opened directly has none,
    # and its kernel waits for the culling of the next test).
    page.goto(f"{voila['url']}/?token={voila['token']}")
    page.locator("text=clv_calculator").first.wait_for(timeout=UI_TIMEOUT_MS)
    page.goto(f"{voila['url']}/voila/render/clv_calculator.ipynb")
    page.locator(".crmlab-clv-value").first.wait_for(timeout=UI_TIMEOUT_MS)
    assert kernels(voila["pid"]) == before + 1
    # A browser closing the tab: Voilà's page asks the server to shut the kernel down.
    page.close(run_before_unload=True)
    assert wait_kernels(voila["pid"], before, timeout=20) == before


def test_kernels_of_pages_gone_without_a_word_are_culled(
    tmp_path_factory: pytest.TempPathFactory, browser_context
) -> None:
    # A laptop that sleeps or a tab that crashes says nothing: voila.json's culling frees
    # the kernel (here with its timeouts shortened, the keys as the repository sets them).
    base = tmp_path_factory.mktemp("voila-cull")
    with start_voila(base, cull={"cull_idle_timeout": 10, "cull_interval": 2}) as server:
        page = browser_context.new_page()
        page.goto(f"{server['url']}/voila/render/clv_calculator.ipynb?token={server['token']}")
        page.locator(".crmlab-clv-value").first.wait_for(timeout=UI_TIMEOUT_MS)
        assert kernels(server["pid"]) == 1
        page.close()  # no beforeunload, so no shutdown request
        assert wait_kernels(server["pid"], 0, timeout=60) == 0, server["log"].read_text()[-2000:]
