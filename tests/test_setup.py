"""The set-up a learner relies on, on every laptop.

The wheel has the data; imports are light; ``python -m crmlab.setup`` (what ``make``
calls, and what Windows users run as ``py -3.11 -m crmlab.setup``) refuses old Pythons,
reinstalls only when the dependencies change, starts offline, serves the student's
``work/`` folder and never overwrites it; a clone made with ``core.autocrlf=true``
keeps the data byte-exact; the student copy of the course holds no solution; the
dashboards ask for a token.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servers import free_port

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


def _get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_first_notebook_on_localhost_with_a_token(repo_root, tmp_path):
    port = free_port()
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
        [
            "make",
            "--no-print-directory",
            "lab",
            f"PORT={port}",
            f"WORK={tmp_path / 'work'}",
            "LAB_FLAGS=--no-browser",
        ],
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
        # The lab serves the student's work folder: the instructor edition is out of reach.
        assert (tmp_path / "work" / "00_start_here.ipynb").is_file()
        for path in ("api/contents/solutions", "files/solutions/00_start_here.ipynb"):
            assert _get(f"{base}/{path}?token={token}")[0] == 404, path
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


# -- python -m crmlab.setup: the route for every laptop ------------------------------------
OFFLINE_PIP = {
    # No configuration (so no local wheel mirror), no index: pip can install nothing.
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_NO_INDEX": "1",
    "PIP_FIND_LINKS": "",
    "PIP_EXTRA_INDEX_URL": "",
}
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _setup(*args: str, cwd: Path, env: dict | None = None, timeout: float = 180):
    """``python -m crmlab.setup ARGS``, run as a student would, without make."""
    return subprocess.run(
        [sys.executable, "-m", "crmlab.setup", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _isolated(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    jupyter_share = Path(sys.prefix) / "share" / "jupyter"
    return {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        # Templates and assets of the test environment (a linked venv has none of its own).
        "JUPYTER_PATH": str(jupyter_share),
        "JUPYTERLAB_DIR": str(jupyter_share / "lab"),
        **extra,
    }


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def course_repo(tmp_path_factory, repo_root) -> Path:
    """A git repository holding the course as it stands (committed or not)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    course = tmp_path_factory.mktemp("course") / "crmlab"
    for name in filter(None, listed.split("\0")):
        if (repo_root / name).is_file():
            (course / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo_root / name, course / name)
    _git("init", "-q", cwd=course)
    _git("add", "-A", cwd=course)
    _git("commit", "-q", "-m", "course", cwd=course)
    return course


@pytest.fixture(scope="module")
def linked_venv(tmp_path_factory, repo_root) -> Path:
    """A virtual environment that sees this interpreter's packages and this crmlab.

    It stands for an environment ``python -m crmlab.setup`` built earlier, without
    the minutes a real install takes.
    """
    venv = tmp_path_factory.mktemp("linked") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    import site

    (purelib,) = (venv / "lib").glob("python*/site-packages")
    lines = [str(repo_root), *site.getsitepackages()]
    (purelib / "zz_linked.pth").write_text("\n".join(lines) + "\n")
    return venv


def _stamp(venv: Path, repo_root: Path, **stale: str) -> None:
    from crmlab import setup

    groups = setup.fingerprints((repo_root / "pyproject.toml").read_text())
    groups.update(stale)
    stamp = {"python": "3.11", "date": "2026-11-30T09:00:00", "groups": groups}
    (venv / setup.STAMP_NAME).write_text(json.dumps(stamp))


def test_the_entry_point_reads_as_old_python(repo_root):
    # An old interpreter must reach the refusal, not a SyntaxError, on its way in.
    import ast

    for name in ("crmlab/__init__.py", "crmlab/setup.py"):
        ast.parse((repo_root / name).read_text(encoding="utf-8"), feature_version=(3, 7))


FAKE_39 = """\
import sys
from collections import namedtuple

sys.version_info = namedtuple("version_info", "major minor micro releaselevel serial")(
    3, 9, 6, "final", 0
)
sys.version = "3.9.6 (default) [Clang 13.0.0]"
"""


@pytest.mark.parametrize("route", ["python -m crmlab.setup", "make lab"])
def test_python_39_is_refused_before_anything_is_built(repo_root, tmp_path, route):
    if route == "make lab" and shutil.which("make") is None:
        pytest.skip("make is not installed")
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "sitecustomize.py").write_text(FAKE_39)
    python = fake / "python3"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{fake}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    venv, work = tmp_path / "venv", tmp_path / "work"
    if route == "make lab":
        command = ["make", "--no-print-directory", "lab", f"PYTHON={python}"]
        command += [f"VENV={venv}", f"WORK={work}"]
    else:
        command = [str(python), "-m", "crmlab.setup", "lab", "--venv", str(venv)]
        command += ["--work", str(work)]
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "crmlab needs Python 3.10 or newer" in result.stderr
    assert "is Python 3.9.6" in result.stderr
    assert "python3.11 -m crmlab.setup" in result.stderr
    assert not venv.exists() and not work.exists()


def test_fingerprints_follow_the_dependency_lists_only(repo_root):
    from crmlab.setup import fingerprints

    text = (repo_root / "pyproject.toml").read_text()
    before = fingerprints(text)
    assert {"core", "dev", "dashboard"} <= set(before)
    # A new description or version, or reordered lines, installs nothing...
    reworded = text.replace('version = "0.1.0"', 'version = "0.2.0"').replace(
        '"numpy>=1.24",\n    "pandas>=2.1",', '"pandas>=2.1",\n    "numpy>=1.24",'
    )
    assert reworded != text and fingerprints(reworded) == before
    # ...a changed requirement reinstalls its group, and only it.
    bumped = fingerprints(text.replace('"voila>=0.5"', '"voila>=0.6"'))
    assert bumped["dashboard"] != before["dashboard"]
    assert {g: h for g, h in bumped.items() if g != "dashboard"} == {
        g: h for g, h in before.items() if g != "dashboard"
    }


def test_python_310_reads_the_same_dependency_lists(repo_root):
    import tomllib

    from crmlab.setup import _read_project_table

    text = (repo_root / "pyproject.toml").read_text()
    project = tomllib.loads(text)["project"]
    fallback = _read_project_table(text)
    assert fallback["dependencies"] == project["dependencies"]
    assert fallback["requires-python"] == project["requires-python"]
    assert fallback["optional-dependencies"] == project["optional-dependencies"]


def test_an_unchanged_environment_is_not_reinstalled(repo_root, linked_venv, tmp_path):
    _stamp(linked_venv, repo_root)
    env = _isolated(tmp_path, **OFFLINE_PIP)
    result = _setup("install", "--venv", str(linked_venv), cwd=repo_root, env=env)
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout
    assert "installing" not in result.stdout


def test_offline_an_environment_built_before_the_stamp_is_used(repo_root, linked_venv, tmp_path):
    # A .venv made by the Makefile of an earlier crmlab has no stamp; it works, so use it.
    from crmlab import setup

    (linked_venv / setup.STAMP_NAME).unlink(missing_ok=True)
    env = _isolated(tmp_path, **OFFLINE_PIP)
    result = _setup("install", "--venv", str(linked_venv), cwd=repo_root, env=env)
    assert result.returncode == 0, result.stderr
    assert "(first install)" in result.stdout
    assert "Carrying on with the environment installed on an earlier day" in result.stdout
    # Asked for an extra it never had, it cannot carry on: it fails and says how.
    _stamp(linked_venv, repo_root)
    stamp = json.loads((linked_venv / setup.STAMP_NAME).read_text())
    del stamp["groups"]["bench"]
    (linked_venv / setup.STAMP_NAME).write_text(json.dumps(stamp))
    result = _setup(
        "install", "--extras", "bench", "--venv", str(linked_venv), cwd=repo_root, env=env
    )
    assert result.returncode == 1
    assert "pip could not install crmlab .[bench]" in result.stderr


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_offline_after_a_dependency_change_the_lab_still_starts(repo_root, linked_venv, tmp_path):
    # A `git pull` changed the dependency lists; the laptop has no network.
    _stamp(linked_venv, repo_root, core="from-an-older-pyproject")
    port, token, work = free_port(), "offline-token", tmp_path / "work"
    env = _isolated(tmp_path, JUPYTER_TOKEN=token, **OFFLINE_PIP)
    env.pop("PYTHONPATH", None)
    log = tmp_path / "lab.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "crmlab.setup", "lab", "--venv", str(linked_venv)),
                *("--work", str(work), "--port", str(port), "--no-browser"),
            ],
            cwd=repo_root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        status, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            with contextlib.suppress(OSError):
                status, _ = _get(f"{base}/api/status?token={token}")
                if status == 200:
                    break
            time.sleep(0.5)
        text = log.read_text()
        assert status == 200, text
        assert "the dependencies of core changed" in text
        assert "could not update the environment" in text
        assert "Carrying on with the environment installed on 2026-11-30" in text
        status, body = _get(f"{base}/api/contents/00_start_here.ipynb?token={token}")
        assert status == 200 and json.loads(body)["type"] == "notebook"
        assert _get(f"{base}/api/contents/solutions?token={token}")[0] == 404
    finally:
        _stop(server)


def test_an_old_environment_is_rebuilt_and_offline_says_what_to_do(repo_root, tmp_path):
    # A .venv left by Python 3.9 (macOS's stock python3) is not reused.
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    old = venv / "bin" / "python"
    old.write_text("#!/bin/sh\necho 3 9\n")
    old.chmod(0o755)
    env = _isolated(tmp_path, **OFFLINE_PIP)
    result = _setup("install", "--venv", str(venv), cwd=repo_root, env=env)
    assert f"{venv} was built with Python 3.9; removing it" in result.stdout
    assert "creating" in result.stdout
    new_version = subprocess.run(
        [str(old), "-c", "import sys; print(sys.version_info >= (3, 10))"],
        capture_output=True,
        text=True,
    ).stdout
    assert new_version.strip() == "True"
    # Offline and never installed: nothing to fall back on, so it fails and says how.
    assert result.returncode == 1
    assert "pip could not install crmlab ." in result.stderr
    assert "--no-index --find-links" in result.stderr


@needs_git
@needs_make
def test_work_is_filled_once_and_left_alone_by_make_student_and_git_pull(course_repo, tmp_path):
    upstream = tmp_path / "upstream"
    _git("clone", "-q", str(course_repo), str(upstream), cwd=tmp_path)
    student = tmp_path / "student"
    _git("clone", "-q", str(upstream), str(student), cwd=tmp_path)

    filled = _setup("work", "--root", str(student), "--work", str(student / "work"), cwd=student)
    assert filled.returncode == 0, filled.stderr
    first = student / "work" / "00_start_here.ipynb"
    assert first.read_bytes() == (student / "notebooks" / "00_start_here.ipynb").read_bytes()
    answers = first.read_text().replace('"cells": [', '"cells": [\n  {"my": "answers"},', 1)
    first.write_text(answers)

    # The instructor fixes notebook 00 and adds a notebook; the student pulls.
    (upstream / "notebooks" / "00_start_here.ipynb").write_text('{"fixed": true}\n')
    (upstream / "notebooks" / "99_extra.ipynb").write_text('{"extra": true}\n')
    _git("add", "-A", cwd=upstream)
    _git("commit", "-q", "-m", "fix 00, add 99", cwd=upstream)
    _git("pull", "-q", "--no-rebase", cwd=student)
    assert first.read_text() == answers
    assert _git("status", "--porcelain", cwd=student) == "", "work/ must be ignored by git"

    # make student regenerates the student edition, not the student's copies.
    subprocess.run(
        [sys.executable, "tools/make_student.py"], cwd=student, check=True, capture_output=True
    )
    assert first.read_text() == answers

    # The next start copies the new notebook in and keeps the answers.
    again = subprocess.run(
        ["make", "--no-print-directory", "work", f"PYTHON={sys.executable}"],
        cwd=student,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "copied into" in again.stdout and "99_extra.ipynb" in again.stdout
    assert "kept your" in again.stdout
    assert first.read_text() == answers
    assert (student / "work" / "99_extra.ipynb").read_text() == '{"extra": true}\n'


def _check_all_data(data_dir: Path) -> subprocess.CompletedProcess:
    code = "import crmlab.datasets as d\nfor key in d.FILES: d.data_path(key)\nprint('ok')\n"
    env = {**os.environ, "CRMLAB_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


@needs_git
def test_a_clone_with_autocrlf_keeps_data_and_notebooks_byte_exact(course_repo, tmp_path):
    # Git for Windows' default: core.autocrlf=true.
    clone = tmp_path / "crlf"
    _git("-c", "core.autocrlf=true", "clone", "-q", str(course_repo), str(clone), cwd=tmp_path)
    assert b"\r\n" in (clone / "crmlab" / "setup.py").read_bytes(), "autocrlf was not active"
    result = _check_all_data(clone / "datasets")
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    for notebook in (course_repo / "notebooks").rglob("*.ipynb"):
        copy = clone / notebook.relative_to(course_repo)
        assert copy.read_bytes() == notebook.read_bytes(), copy
    assert (clone / "Makefile").read_bytes() == (course_repo / "Makefile").read_bytes()


@needs_git
def test_without_gitattributes_the_checksum_error_says_how_to_fix_line_endings(
    course_repo, tmp_path
):
    old = tmp_path / "old"
    _git("clone", "-q", str(course_repo), str(old), cwd=tmp_path)
    _git("rm", "-q", ".gitattributes", cwd=old)
    _git("commit", "-q", "-m", "a course without .gitattributes", cwd=old)
    clone = tmp_path / "crlf"
    _git("-c", "core.autocrlf=true", "clone", "-q", str(old), str(clone), cwd=tmp_path)
    result = _check_all_data(clone / "datasets")
    assert result.returncode != 0
    assert "DataFileError" in result.stderr and "has been altered" in result.stderr
    assert "line endings were changed to Windows ones (CRLF)" in result.stderr
    assert "git rm -r -q --cached datasets\n    git checkout HEAD -- datasets" in result.stderr
    # The advice works, also when the index's stat data match the altered files, as
    # they do once the clone is older than a second (then a checkout alone skips them).
    for data_file in (clone / "datasets").iterdir():
        os.utime(data_file, (1_500_000_000, 1_500_000_000))
    _git("-c", "core.autocrlf=true", "update-index", "-q", "--refresh", cwd=clone)
    _git("config", "core.autocrlf", "false", cwd=clone)
    _git("rm", "-r", "-q", "--cached", "datasets", cwd=clone)
    _git("checkout", "HEAD", "--", "datasets", cwd=clone)
    fixed = _check_all_data(clone / "datasets")
    assert fixed.returncode == 0, fixed.stderr


@needs_git
def test_the_student_release_holds_no_solution(course_repo, tmp_path):
    out = tmp_path / "dist" / "crmlab-student"
    result = _setup("student-release", "--root", str(course_repo), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import zipfile

    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    with zipfile.ZipFile(out.with_suffix(".zip")) as bundle:
        zipped = sorted(name.split("/", 1)[1] for name in bundle.namelist())
    assert zipped == files
    assert not [name for name in files if "solution" in name.lower()]
    assert not [name for name in files if name.startswith(("tests/", "tools/"))]
    # Everything a student runs is there, and the notebooks are the student edition.
    for needed in ("pyproject.toml", "Makefile", "crmlab/setup.py", "datasets/donations.csv"):
        assert needed in files, needed
    student = sorted(p.name for p in (course_repo / "notebooks").glob("*.ipynb"))
    assert sorted(n[len("notebooks/") :] for n in files if n.startswith("notebooks/")) == student
    for name in student:
        released = (out / "notebooks" / name).read_bytes()
        assert released == (course_repo / "notebooks" / name).read_bytes()
    # No solution block, nor a line of one that the student edition lacks, anywhere.
    # The course notebooks' markers and otter-grader's (problem sets: solutions, hidden tests).
    markers = ("BEGIN SOLUTION", "<!-- BEGIN SOLUTION -->", "hidden: true")
    solution_lines = set()
    block = re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)### END SOLUTION", re.S)
    for notebook in (course_repo / "notebooks" / "solutions").glob("*.ipynb"):
        for cell in json.loads(notebook.read_text())["cells"]:
            for code in block.findall("".join(cell["source"])):
                solution_lines |= {line.strip() for line in code.splitlines()}
    student_text = "".join((course_repo / "notebooks" / n).read_text() for n in student)
    telling = {line for line in solution_lines if len(line) > 15 and line not in student_text}
    assert telling, "the check must have solution lines to look for"
    for name in files:
        if name.endswith((".ipynb", ".md", ".py", ".txt", ".json")):
            text = (out / name).read_text(encoding="utf-8", errors="replace")
            assert not any(marker in text for marker in markers), name
            if name.endswith((".ipynb", ".md")):
                assert not [line for line in telling if line in text], name


@needs_make
@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_make_dashboard_refuses_a_request_without_its_token(repo_root, linked_venv, tmp_path):
    pytest.importorskip("voila")
    _stamp(linked_venv, repo_root)
    port = free_port()
    env = _isolated(tmp_path, **OFFLINE_PIP)
    env.pop("PYTHONPATH", None)
    log = tmp_path / "voila.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                *("make", "--no-print-directory", "dashboard", f"PYTHON={sys.executable}"),
                *(f"VENV={linked_venv}", f"DASHBOARD_PORT={port}"),
            ],
            cwd=repo_root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    page = "voila/render/clv_calculator.ipynb"
    try:
        deadline, token = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            found = re.search(rf"{re.escape(base)}/\?token=(\S+)", log.read_text())
            if found:
                token = found.group(1)
                with contextlib.suppress(OSError):
                    if _get(f"{base}/?token={token}")[0] == 200:
                        break
            time.sleep(0.5)
        assert token and len(token) >= 24, log.read_text()
        opener = urllib.request.build_opener(_NoRedirect)
        for url in (f"{base}/{page}", f"{base}/{page}?token=wrong", f"{base}/"):
            try:
                status = opener.open(url, timeout=10).status
            except urllib.error.HTTPError as error:
                status = error.code
            assert status in (302, 403), (url, status)
        status, _body = _get(f"{base}/{page}?token={token}", timeout=90)
        assert status == 200, log.read_text()[-2000:]
    finally:
        _stop(server)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
