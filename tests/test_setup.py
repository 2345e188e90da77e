"""The set-up a learner relies on: the wheel has the data, `make lab` serves, imports are light."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

COMPUTE_MODULES = [
    "crmlab.datasets",
    "crmlab.transactions",
    "crmlab.retention",
    "crmlab.clv",
    "crmlab.models",
    "crmlab.simulate",
    "crmlab.history",
    "crmlab.exercises",
    "crmlab.rfm",
    "crmlab.targeting",
]
HEAVY_MODULES = ["matplotlib.pyplot", "seaborn", "ipywidgets"]


def test_compute_modules_do_not_load_plotting_or_widgets():
    code = (
        "import importlib, sys\n"
        f"for name in {COMPUTE_MODULES!r}: importlib.import_module(name)\n"
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_import_crmlab_loads_neither_pandas_nor_scipy():
    code = "import sys, crmlab; print(sorted({'pandas', 'scipy', 'numpy'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_non_editable_wheel_finds_the_shipped_data(repo_root, tmp_path):
    source = tmp_path / "src"
    shutil.copytree(
        repo_root,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"),
    )
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("crmlab-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    code = (
        "import crmlab, crmlab.datasets as d\n"
        "tx = d.load_cdnow('sample')\n"
        "print(crmlab.__file__)\n"
        "print(d.data_dir())\n"
        "import crmlab.history as h\n"
        "print(len(tx), int(d.load_donations()['weight'].sum()), len(h.glossary('fa')) >= 30)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("CRMLAB_DATA_DIR", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    module_file, data_dir, counts = result.stdout.strip().splitlines()
    assert Path(module_file).is_relative_to(target)
    assert Path(data_dir) == target / "crmlab" / "_datasets"
    assert counts == "6919 11104 True"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_first_notebook_on_localhost_with_a_token(repo_root, tmp_path):
    port = _free_port()
    token = "crmlab-test-token"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_TOKEN": token,
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"PORT={port}", "LAB_FLAGS=--no-browser"],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status, _ = _get(f"{base}/api/status?token={token}")
                if status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                break
            time.sleep(0.5)
        assert status == 200, (tmp_path / "lab.log").read_text()

        status, body = _get(f"{base}/api/contents/00_start_here.ipynb?token={token}")
        assert status == 200
        notebook = json.loads(body)
        assert notebook["type"] == "notebook"
        assert notebook["content"]["cells"], "the first notebook is empty"

        status, _ = _get(f"{base}/api/contents/00_start_here.ipynb")
        assert status == 403, "the server must not answer without its token"
        assert f"http://127.0.0.1:{port}/" in (tmp_path / "lab.log").read_text()
    finally:
        _stop(server)
        log.close()


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
