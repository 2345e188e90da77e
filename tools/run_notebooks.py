"""Re-run the solution notebooks top to bottom and save their outputs in place.

This is the "restart and run all" that nbval checks against: run it after changing
``crmlab`` or a notebook, then ``make student`` to carry the outputs over to the
student edition. Widget state is saved so that JupyterLab shows the widgets before
the kernel starts.

    python tools/run_notebooks.py                      # every notebook in notebooks/solutions
    python tools/run_notebooks.py 01_origins_of_crm    # only those whose name starts so
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "notebooks" / "solutions"


def run(path: Path, timeout: int = 600) -> None:
    """Execute ``path`` in a fresh kernel, from its own folder, and write it back."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
    )
    client.execute()
    nbformat.write(notebook, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose name starts so")
    args = parser.parse_args(argv)
    paths = sorted(SOLUTIONS.glob("*.ipynb"))
    if args.prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in args.prefixes)]
    if not paths:
        print("no notebook matches", file=sys.stderr)
        return 1
    for path in paths:
        print(f"running {path.relative_to(ROOT)}", flush=True)
        run(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
