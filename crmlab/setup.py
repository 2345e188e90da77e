"""Set up and open the course on any laptop, with or without ``make``.

Run it from the folder of the course (the one holding ``pyproject.toml``)::

    python -m crmlab.setup              # build .venv if needed, fill work/, open JupyterLab
    python -m crmlab.setup dashboard    # the projector dashboards (Voilà), behind a token
    python -m crmlab.setup work         # copy new student notebooks into work/
    python -m crmlab.setup install --extras dev,dashboard
    python -m crmlab.setup student-release    # dist/crmlab-student(.zip), no solutions

On Windows the same commands start with ``py -3.11`` instead of ``python`` (``py`` is
the launcher that python.org's installer puts on the path). ``make lab``, ``make
dashboard`` and ``make test`` call this module, so every route builds the same
environment in the same way.

What it promises a student:

- Python older than 3.10 is refused before anything is built, with the command to fix it.
- The environment holds only what the course needs to run; test tools come with
  ``make test`` (extra ``dev``), Voilà with ``make dashboard`` (extra ``dashboard``).
- It is reinstalled only when the dependency lists in ``pyproject.toml`` change
  (their hash is stamped in the environment), and when that reinstall fails, for
  example without network, the environment already built is used, and it says so.
- Students work in ``work/``, which git does not track. It is filled from the
  student edition (``notebooks/*.ipynb``) and a notebook already there is never
  overwritten: delete one to get a fresh copy at the next start. The lab serves
  ``work/`` only, so the instructor edition (``notebooks/solutions/``) is not in sight.

This file must stay readable by old Pythons, so that they reach the refusal below
rather than a syntax error: no syntax newer than Python 3.7 (a test parses it so).
Nor may it name the packaging library that builds crmlab: pytest takes a file called
``setup.py`` that does for a build script and skips its doctests.
"""

from __future__ import annotations

import sys

MINIMUM_PYTHON = (3, 10)
RECOMMENDED = "3.11"


def python_refusal(version_info, executable: str, platform: str) -> str | None:
    """The message refusing an interpreter older than :data:`MINIMUM_PYTHON`, or ``None``.

    >>> python_refusal((3, 11, 7), "python3", "linux") is None
    True
    >>> print(python_refusal((3, 9, 6), "/usr/bin/python3", "darwin"))
    crmlab needs Python 3.10 or newer; /usr/bin/python3 is Python 3.9.6.
    Nothing was installed. Install Python 3.11 and run the same step with it:
      brew install python@3.11
      (or take the installer from https://www.python.org/downloads/)
      python3.11 -m crmlab.setup    (or: make lab PYTHON=python3.11)
    """
    if tuple(version_info[:2]) >= MINIMUM_PYTHON:
        return None
    found = ".".join(str(part) for part in version_info[:3])
    v = RECOMMENDED
    if platform.startswith("win"):
        install, run = f"winget install Python.Python.{v}", f"py -{v} -m crmlab.setup"
    elif platform == "darwin":
        install = f"brew install python@{v}"
        run = f"python{v} -m crmlab.setup    (or: make lab PYTHON=python{v})"
    else:
        install = f"sudo apt-get install python{v} python{v}-venv    (or conda: see README.md)"
        run = f"python{v} -m crmlab.setup    (or: make lab PYTHON=python{v})"
    lines = [
        f"crmlab needs Python {MINIMUM_PYTHON[0]}.{MINIMUM_PYTHON[1]} or newer; "
        f"{executable} is Python {found}.",
        f"Nothing was installed. Install Python {v} and run the same step with it:",
        f"  {install}",
        "  (or take the installer from https://www.python.org/downloads/)",
        f"  {run}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no branch - the refusal comes before anything else
    _refusal = python_refusal(sys.version_info, sys.executable, sys.platform)
    if _refusal is not None:
        print(_refusal, file=sys.stderr)
        sys.exit(1)

# Everything below needs Python 3.10, checked above when run as a program.
import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import zipfile  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

__all__ = [
    "SetupError",
    "dependency_groups",
    "ensure_environment",
    "fill_work",
    "fingerprints",
    "main",
    "python_refusal",
    "student_release",
    "venv_python",
]

ROOT = Path(__file__).resolve().parent.parent
STAMP_NAME = "crmlab-install.json"
#: What each group must make importable; a failed import means a broken install.
GROUP_IMPORTS = {
    "core": ("crmlab", "jupyterlab", "ipywidgets"),
    "dashboard": ("voila",),
    "dev": ("pytest", "nbval", "hypothesis", "playwright"),
}
#: Left out of the student copy: the instructor edition and what only builds or tests it.
# What a student copy leaves out: the instructor edition, the problem sets' solutions,
# hidden tests, sample submissions and grading scripts, the model answers of the guide,
# and what builds or checks the course.
RELEASE_EXCLUDED = (
    "notebooks/solutions",
    "course/problem-sets/source",
    "course/problem-sets/samples",
    "course/instructor-guide.md",
    "course/grade.py",
    "course/assign.py",
    "CONTRIBUTING.md",
    "tests",
    "tools",
    "benchmarks",
    ".ci",
    ".github",
)
FIRST_NOTEBOOK = "00_start_here.ipynb"


class SetupError(RuntimeError):
    """The environment could not be built; the message says what to do."""


def say(message: str) -> None:
    """Tell the student what happens (the lab's own log follows on the same stream)."""
    print(f"[crmlab] {message}", flush=True)


# -- dependency lists and their fingerprint ------------------------------------------------
def dependency_groups(pyproject_text: str) -> dict[str, list[str]]:
    """The requirement lists of ``pyproject.toml``: ``core`` and one per extra.

    ``core`` is ``[project] dependencies`` plus the ``requires-python`` bound.

    >>> text = '''
    ... [project]
    ... requires-python = ">=3.10"
    ... dependencies = ["numpy>=1.24", "pandas>=2.1"]
    ... [project.optional-dependencies]
    ... dashboard = ["voila>=0.5"]
    ... '''
    >>> dependency_groups(text)
    {'core': ['numpy>=1.24', 'pandas>=2.1', 'python>=3.10'], 'dashboard': ['voila>=0.5']}
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        project = _read_project_table(pyproject_text)
    else:
        project = tomllib.loads(pyproject_text)["project"]
    core = [*project.get("dependencies", [])]
    if "requires-python" in project:
        core.append("python" + project["requires-python"])
    groups = {"core": core}
    groups.update(project.get("optional-dependencies", {}))
    return groups


def _read_project_table(text: str) -> dict:
    """Just enough TOML for ``[project]``'s lists, for Python 3.10 (no ``tomllib``)."""
    project: dict = {"optional-dependencies": {}}
    table = None
    for line in _logical_lines(text):
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header:
            table = header.group(1).strip()
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key, value = key.strip().strip('"'), value.strip()
        strings = re.findall(r'"([^"]*)"', value)
        if table == "project" and key == "dependencies":
            project["dependencies"] = strings
        elif table == "project" and key == "requires-python":
            project["requires-python"] = strings[0]
        elif table == "project.optional-dependencies":
            project["optional-dependencies"][key] = strings
    return project


def _logical_lines(text: str) -> list[str]:
    # A list may span lines: join until its brackets balance; comments go first.
    lines, pending = [], ""
    for raw in text.splitlines():
        line = re.sub(r"\s#.*$|^#.*$", "", raw).strip()
        if not line and not pending:
            continue
        pending = f"{pending} {line}".strip()
        if pending.count("[") <= pending.count("]"):
            lines.append(pending)
            pending = ""
    return lines


def fingerprints(pyproject_text: str) -> dict[str, str]:
    """A hash of each group's requirements, insensitive to order and formatting.

    >>> a = fingerprints('[project]\\ndependencies = ["b", "a"]\\n')
    >>> b = fingerprints('[project]\\ndescription = "new"\\ndependencies = [\\n "a",\\n "b",\\n]')
    >>> a == b
    True
    """
    return {
        group: hashlib.sha256(json.dumps(sorted(reqs)).encode()).hexdigest()[:16]
        for group, reqs in dependency_groups(pyproject_text).items()
    }


# -- the virtual environment -----------------------------------------------------------------
def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment ``venv`` on this platform.

    >>> venv_python(Path(".venv")).name in {"python", "python.exe"}
    True
    """
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def _run(command: Sequence[str], **options) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], text=True, **options)


def _clean_env() -> dict[str, str]:
    # The checks ask what the environment itself provides, not what PYTHONPATH adds.
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def _venv_version(python: Path) -> tuple[int, int] | None:
    if not python.exists():
        return None
    result = _run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        env=_clean_env(),
    )
    if result.returncode != 0:
        return None
    major, minor = result.stdout.split()
    return int(major), int(minor)


def _imports_ok(python: Path, groups: Sequence[str], root: Path) -> bool:
    modules = [m for group in groups for m in GROUP_IMPORTS.get(group, ())]
    # Finding the modules is enough to tell a broken install, and costs no import.
    code = (
        "import importlib.util as u, pathlib, sys\n"
        f"specs = [u.find_spec(m) for m in {modules!r}]\n"
        "ok = all(specs) and pathlib.Path(specs[0].origin).resolve().parent.parent"
        f" == pathlib.Path({str(root)!r}).resolve()\n"
        "sys.exit(0 if ok else 1)\n"
    )
    # Run outside the repository so that crmlab comes from the environment, not the cwd.
    result = _run([python, "-c", code], capture_output=True, cwd=python.parent, env=_clean_env())
    return result.returncode == 0


def _read_stamp(venv: Path) -> dict:
    try:
        return json.loads((venv / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _create_venv(venv: Path) -> None:
    try:
        import ensurepip  # noqa: F401
        import venv as _venv  # noqa: F401
    except ImportError:
        raise SetupError(
            f"{sys.executable} cannot build a virtual environment (no venv/ensurepip).\n"
            "On Debian or Ubuntu:  sudo apt-get install python3-venv\n"
            "or use another Python:  make lab PYTHON=/path/to/python3.11"
        ) from None
    say(f"creating {venv} with Python {sys.version.split()[0]} ({sys.executable})")
    result = _run([sys.executable, "-m", "venv", venv], capture_output=True)
    if result.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise SetupError(f"python -m venv failed:\n{result.stdout}{result.stderr}")
    python = venv_python(venv)
    pip_version = _run(
        [python, "-c", "import pip; print(pip.__version__.split('.')[0])"],
        capture_output=True,
    ).stdout.strip()
    if pip_version.isdigit() and int(pip_version) < 22:
        # Editable installs from pyproject.toml need pip 21.3 or newer.
        _run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])


def ensure_environment(extras: Sequence[str] = (), *, venv: Path, root: Path = ROOT) -> Path:
    """Build or update the environment ``venv`` for crmlab plus ``extras``; its Python.

    Nothing is installed when the stamped fingerprints of the requested groups match
    ``pyproject.toml`` and the environment imports what they provide. When an
    install is needed and fails but a complete earlier install is there (a laptop
    offline after a ``git pull``), that one is used and a warning says so.

    Raises
    ------
    SetupError
        If no usable environment can be had; the message says what to do.
    """
    venv = Path(venv).absolute()
    groups = ["core", *[extra for extra in extras if extra != "core"]]
    wanted = fingerprints((root / "pyproject.toml").read_text(encoding="utf-8"))
    unknown = [group for group in groups if group not in wanted]
    if unknown:
        raise SetupError(
            f"unknown extra {', '.join(unknown)}; pyproject.toml defines "
            f"{', '.join(sorted(set(wanted) - {'core'}))}"
        )
    python = venv_python(venv)
    version = _venv_version(python)
    if venv.exists() and (version is None or version < MINIMUM_PYTHON):
        built = "a broken Python" if version is None else "Python {}.{}".format(*version)
        say(f"{venv} was built with {built}; removing it and building it again")
        shutil.rmtree(venv)
    if not venv.exists():
        _create_venv(venv)

    stamp = _read_stamp(venv)
    installed = stamp.get("groups", {})
    changed = [group for group in groups if installed.get(group) != wanted[group]]
    working = _imports_ok(python, groups, root)
    if not changed and working:
        say(
            f"environment {venv} is up to date (dependency lists unchanged since "
            f"{stamp.get('date', 'the last install')}); nothing to install"
        )
        return python

    if not installed:
        why = "first install"
    elif changed:
        why = f"the dependencies of {', '.join(changed)} changed in pyproject.toml"
    else:
        why = "the environment cannot import crmlab from this folder"
    target = "." if groups == ["core"] else f".[{','.join(groups[1:])}]"
    say(f"installing crmlab {target} into {venv} ({why}); this can take a few minutes")
    result = _run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target],
        cwd=root,
        capture_output=True,
    )
    if result.returncode == 0:
        installed.update({group: wanted[group] for group in groups})
        stamp = {
            "python": "{}.{}".format(*_venv_version(python)),
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "groups": installed,
        }
        (venv / STAMP_NAME).write_text(json.dumps(stamp, indent=1), encoding="utf-8")
        return python

    problem = _pip_problem(result.stderr + result.stdout)
    # An environment without a stamp was built by an older crmlab: usable if it imports.
    if working and (not installed or all(group in installed for group in groups)):
        say(
            "WARNING: could not update the environment (no network?). pip said:\n    "
            + "\n    ".join(problem)
            + "\n[crmlab] Carrying on with the environment installed on "
            + stamp.get("date", "an earlier day")
            + "; run this again with a network to update it."
        )
        return python
    raise SetupError(
        "pip could not install crmlab " + target + ":\n    " + "\n    ".join(problem) + "\n"
        "Check the network and run the same command again. Without network, an "
        "instructor's folder of wheels works too:\n"
        f"    {python} -m pip install --no-index --find-links WHEELS -e {target}"
    )


def _pip_problem(output: str) -> list[str]:
    # pip ends with generic advice; the lines that name the problem say more.
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    named = [line for line in lines if re.search(r"ERROR|[Ee]rror:|No matching|Could not", line)]
    return (named or lines)[:3] or ["(no output)"]


# -- the student's work folder ---------------------------------------------------------------
def fill_work(student: Path, work: Path) -> tuple[list[str], list[str]]:
    """Copy each student notebook missing from ``work``; never touch one already there.

    Returns the names copied and the names kept.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     student, work = Path(tmp, "notebooks"), Path(tmp, "work")
    ...     student.mkdir()
    ...     _ = (student / "00_a.ipynb").write_text("{}")
    ...     print(fill_work(student, work))
    ...     _ = (work / "00_a.ipynb").write_text("my answers")
    ...     _ = (student / "01_b.ipynb").write_text("{}")
    ...     print(fill_work(student, work), (work / "00_a.ipynb").read_text())
    (['00_a.ipynb'], [])
    (['01_b.ipynb'], ['00_a.ipynb']) my answers
    """
    work.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for source in sorted(student.glob("*.ipynb")):
        destination = work / source.name
        if destination.exists():
            kept.append(source.name)
        else:
            shutil.copy2(source, destination)
            copied.append(source.name)
    return copied, kept


def _report_work(work: Path, copied: list[str], kept: list[str]) -> None:
    if copied:
        say(f"copied into {work}: {', '.join(copied)}")
    if kept:
        say(
            f"kept your {len(kept)} notebook(s) in {work} as they are; "
            "to start one afresh, delete it there and start again"
        )


# -- the student copy of the course ----------------------------------------------------------
def _course_files(root: Path) -> list[str]:
    listed = _run(["git", "ls-files", "-z"], cwd=root, capture_output=True)
    if listed.returncode == 0 and listed.stdout:
        names = [name for name in listed.stdout.split("\0") if name]
    else:  # not a git checkout: every file but the local folders
        local = {".git", ".venv", ".venv-pandas2", "work", "dist", "build", "__pycache__"}
        names = [
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if path.is_file() and not local & set(path.relative_to(root).parts)
        ]
    return sorted(
        name
        for name in names
        if not any(name == ex or name.startswith(ex + "/") for ex in RELEASE_EXCLUDED)
        and (root / name).is_file()
    )


def student_release(root: Path, out: Path) -> tuple[Path, Path]:
    """Write the course without its instructor edition to ``out`` and ``out.zip``.

    The copy holds the package, the data, the dashboards, the set-up and the student
    edition; not ``notebooks/solutions/``, nor the tests, tools and benchmarks that
    build or check it. Files are taken as git tracks them (byte for byte).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder, archive = student_release(ROOT, Path(tmp, "crmlab-student"))
    ...     names = [p.relative_to(folder).as_posix() for p in folder.rglob("*")]
    ...     print(archive.name, "notebooks/00_start_here.ipynb" in names,
    ...           [n for n in names if "solutions" in n])
    crmlab-student.zip True []
    """
    out = Path(out).absolute()
    if out.exists():
        shutil.rmtree(out)
    names = _course_files(root)
    for name in names:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, out / name)
    archive = out.parent / f"{out.name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in names:
            bundle.write(out / name, f"{out.name}/{name}")
    return out, archive


# -- starting the servers --------------------------------------------------------------------
def _root_flag() -> list[str]:
    # Containers and CI often run as root, where Jupyter refuses to start without it.
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def _quiet_lab_news(venv: Path) -> None:
    # No "get notified about Jupyter news?" pop-up over the first notebook.
    settings = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if not settings.exists():
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(
            json.dumps({"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}),
            encoding="utf-8",
        )


def _serve(command: list[str], cwd: Path) -> int:
    try:
        return subprocess.call([str(part) for part in command], cwd=cwd)
    except KeyboardInterrupt:
        return 0


def run_lab(args: argparse.Namespace, extra: list[str]) -> int:
    python = ensure_environment(args.extras, venv=args.venv, root=args.root)
    work = Path(args.work).absolute()
    _report_work(work, *fill_work(args.root / "notebooks", work))
    _quiet_lab_news(Path(args.venv).absolute())
    command = [
        python,
        "-m",
        "jupyterlab",
        f"--ServerApp.ip={args.ip}",
        f"--ServerApp.port={args.port}",
        f"--ServerApp.root_dir={work}",
        *_root_flag(),
    ]
    if (work / FIRST_NOTEBOOK).exists():
        command.append(f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}")
    say(
        f"starting JupyterLab on http://{args.ip}:{args.port}/ serving {work}; "
        "it prints its address with a token below. Stop it with Ctrl+C."
    )
    return _serve([*command, *extra], cwd=work)


def run_dashboard(args: argparse.Namespace, extra: list[str]) -> int:
    python = ensure_environment(["dashboard", *args.extras], venv=args.venv, root=args.root)
    token = os.environ.get("CRMLAB_DASHBOARD_TOKEN") or secrets.token_urlsafe(24)
    # Voilà reads dashboards/voila.json (kernel culling) from the folder it starts in.
    folder = args.root / "dashboards"
    command = [
        python,
        "-m",
        "voila",
        "--no-browser",
        f"--Voila.ip={args.ip}",
        f"--port={args.port}",
        "--Voila.port_retries=0",
        f"--Voila.token={token}",
        *extra,
        ".",
    ]
    say(
        f"dashboards at http://{args.ip}:{args.port}/?token={token}  "
        "(open this address; without the token the server refuses). Stop with Ctrl+C."
    )
    return _serve(command, cwd=folder)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crmlab.setup",
        description="Set up crmlab's environment and open the course (lab is the default).",
        epilog="Options it does not know go to JupyterLab or Voila, e.g. --no-browser. "
        "On Windows: py -3.11 -m crmlab.setup",
        allow_abbrev=False,
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="lab",
        choices=["lab", "dashboard", "work", "install", "student-release"],
        help="lab: build .venv if needed, fill work/, open JupyterLab; dashboard: Voila "
        "with a token; work: copy new student notebooks into work/; install: only build "
        "the environment; student-release: the course without solutions in --out",
    )
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="default: .venv")
    parser.add_argument("--work", type=Path, default=ROOT / "work", help="default: work")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--ip", default="127.0.0.1", help="default: 127.0.0.1 (this machine)")
    parser.add_argument("--port", type=int, default=None, help="8888 (lab), 8866 (dashboard)")
    parser.add_argument(
        "--extras",
        default="",
        help="comma-separated extras of pyproject.toml to install as well (dev, dashboard…)",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "dist" / "crmlab-student", help="student-release"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; any argument it does not know goes to JupyterLab or Voilà."""
    args, extra = _parser().parse_known_args(argv)
    args.extras = [name for name in args.extras.split(",") if name]
    args.root = Path(args.root).absolute()
    try:
        if not (args.root / "pyproject.toml").is_file():
            raise SetupError(
                f"{args.root} is not the course folder (it has no pyproject.toml): "
                "run this from a clone of the course, where this file is crmlab/setup.py"
            )
        if args.command == "install":
            ensure_environment(args.extras, venv=args.venv, root=args.root)
            return 0
        if args.command == "work":
            work = Path(args.work).absolute()
            _report_work(work, *fill_work(args.root / "notebooks", work))
            return 0
        if args.command == "student-release":
            folder, archive = student_release(args.root, args.out)
            say(f"student copy without solutions: {folder} and {archive}")
            return 0
        if args.command == "dashboard":
            args.port = args.port or 8866
            return run_dashboard(args, extra)
        args.port = args.port or 8888
        return run_lab(args, extra)
    except SetupError as error:
        print(f"[crmlab] error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
