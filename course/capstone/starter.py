"""Capstone starter: run the researcher's notebook end to end on a student's own log.

Two steps, each one command::

    # 1. no data of your own? make a log of a fictional firm (your seed, your firm)
    python course/capstone/starter.py generate my_log.csv --seed 12345

    # 2. run the researcher's notebook (08 spend and CLV) on it, in its own-data mode
    python course/capstone/starter.py run my_log.csv --out capstone_out \
        [--customer-col customer_id --date-col date --amount-col amount] \
        [--calibration-end 2024-06-30 --observation-end 2024-12-31] [-p margin 0.25 ...]

``run`` executes the notebook with papermill (``capstone_out/analysis.ipynb``, every
output kept) and writes the per-customer results (``capstone_out/clv.csv``). Without
dates it calibrates on the first 60 % of the log's span and keeps the rest as holdout.

The researcher's notebook is found by name (``notebooks/solutions/08_spend_and_clv.ipynb``)
or, failing that, as the solution notebook whose ``parameters`` cell declares the path of
the log (``data_path``, or ``csv_path`` in earlier editions), so that renumbering the
chapters does not break the starter. The log's path goes to whichever of the two the
notebook declares, and only parameters that the notebook declares are passed (papermill
would inject others blindly).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "notebooks" / "solutions"
PREFERRED = "08_spend_and_clv.ipynb"
# The parameter that names the log: data_path in 08, csv_path in the notebook it came from.
PATH_PARAMETERS = ("data_path", "csv_path")


def _parameters_cell(path: Path) -> dict[str, object] | None:
    """Names and default values of the ``parameters`` cell of ``path``, or None."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell["cell_type"] == "code" and "parameters" in cell["metadata"].get("tags", []):
            values: dict[str, object] = {}
            for node in ast.parse("".join(cell["source"])).body:
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                    try:
                        values[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        values[node.targets[0].id] = None
            return values
    return None


def researcher_notebook(folder: Path = SOLUTIONS) -> Path:
    """The researcher's notebook: 08_spend_and_clv, or whichever declares a log's path."""
    preferred = folder / PREFERRED
    if preferred.exists():
        return preferred
    for path in sorted(folder.glob("*.ipynb")):
        parameters = _parameters_cell(path)
        if parameters is not None and any(name in parameters for name in PATH_PARAMETERS):
            return path
    raise ValueError(
        f"no researcher's notebook in {folder}: expected {PREFERRED}, or a notebook whose "
        f"cell tagged 'parameters' defines one of {PATH_PARAMETERS}"
    )


def generate_log(
    n_customers: int = 1000,
    *,
    seed: int = 0,
    start: str = "2024-01-01",
    weeks: int = 78,
    acquisition_weeks: int = 12,
) -> pd.DataFrame:
    """A transaction log of a fictional firm whose customers buy in the BG/NBD manner.

    Each customer arrives in the first ``acquisition_weeks``, buys at her own Poisson rate
    (gamma-distributed across customers) and after each purchase leaves for good with
    her own probability (beta-distributed); spend per purchase is gamma around her own
    mean. The log has columns ``customer_id``, ``date`` and ``amount``, one row per
    purchase, sorted by date.

    >>> log = generate_log(50, seed=1)
    >>> list(log.columns), log["customer_id"].nunique()
    (['customer_id', 'date', 'amount'], 50)
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    rng = np.random.default_rng(seed)
    origin = pd.Timestamp(start)
    horizon = 7.0 * weeks
    rows = []
    for customer in range(n_customers):
        rate = rng.gamma(0.6, 1 / 4.0) / 7.0  # purchases per day
        dropout = rng.beta(0.8, 2.5)
        mean_spend = rng.gamma(6.0, 6.0)
        day = float(rng.uniform(0, 7.0 * acquisition_weeks))
        while day < horizon:
            amount = round(float(rng.gamma(4.0, mean_spend / 4.0)), 2)
            rows.append((f"C{customer:05d}", origin + pd.Timedelta(days=int(day)), amount))
            if rng.random() < dropout:
                break
            day += rng.exponential(1.0 / max(rate, 1e-6))
    log = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return log.sort_values(["date", "customer_id"], kind="stable").reset_index(drop=True)


def default_dates(log: pd.DataFrame, date_col: str = "date") -> tuple[str, str]:
    """Calibration end at 60 % of the log's span, observation end at its last day."""
    dates = pd.to_datetime(log[date_col])
    first, last = dates.min(), dates.max()
    calibration_end = (first + 0.6 * (last - first)).normalize()
    return calibration_end.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")


def _value(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run(
    csv_path: Path,
    out: Path,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    calibration_end: str | None = None,
    observation_end: str | None = None,
    extra: dict[str, object] | None = None,
    notebook: Path | None = None,
) -> Path:
    """Execute the researcher's notebook on ``csv_path``; returns the executed notebook."""
    import papermill

    csv_path = Path(csv_path).resolve()
    if not csv_path.exists():
        raise ValueError(f"no log at {csv_path}: give the path of a CSV of transactions")
    notebook = notebook or researcher_notebook()
    declared = _parameters_cell(notebook) or {}
    path_parameter = next((name for name in PATH_PARAMETERS if name in declared), None)
    if path_parameter is None:
        raise ValueError(f"{notebook.name} declares none of {PATH_PARAMETERS}: not own-data mode")
    log = pd.read_csv(csv_path)
    missing = [c for c in (customer_col, date_col, amount_col) if c not in log.columns]
    if missing:
        raise ValueError(
            f"{csv_path.name} has no column(s) {missing}; its columns are {list(log.columns)}. "
            "Name yours with --customer-col, --date-col and --amount-col."
        )
    if calibration_end is None or observation_end is None:
        default_calibration, default_observation = default_dates(log, date_col)
        calibration_end = calibration_end or default_calibration
        observation_end = observation_end or default_observation
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    parameters: dict[str, object] = {
        path_parameter: str(csv_path),
        "customer_col": customer_col,
        "date_col": date_col,
        "amount_col": amount_col,
        "calibration_end": calibration_end,
        "observation_end": observation_end,
        "output_path": str(out / "clv.csv"),
        **(extra or {}),
    }
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        print(f"note: {notebook.name} does not take {unknown}; they are left out")
    parameters = {k: v for k, v in parameters.items() if k in declared}
    executed = out / "analysis.ipynb"
    papermill.execute_notebook(
        str(notebook),
        str(executed),
        parameters=parameters,
        cwd=str(out),
        progress_bar=False,
    )
    return executed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    gen = steps.add_parser("generate", help="write a simulated transaction log")
    gen.add_argument("csv", type=Path)
    gen.add_argument("--seed", type=int, default=0, help="your own seed: your own firm")
    gen.add_argument("--customers", type=int, default=1000)
    go = steps.add_parser("run", help="run the researcher's notebook on a log")
    go.add_argument("csv", type=Path)
    go.add_argument("--out", type=Path, default=Path("capstone_out"))
    go.add_argument("--customer-col", default="customer_id")
    go.add_argument("--date-col", default="date")
    go.add_argument("--amount-col", default="amount")
    go.add_argument("--calibration-end")
    go.add_argument("--observation-end")
    go.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="any other parameter of the notebook, e.g. -p margin 0.25",
    )
    args = parser.parse_args(argv)
    try:
        if args.step == "generate":
            log = generate_log(args.customers, seed=args.seed)
            log.to_csv(args.csv, index=False)
            print(
                f"wrote {len(log):,} purchases of {log['customer_id'].nunique():,} customers "
                f"to {args.csv}"
            )
            return 0
        executed = run(
            args.csv,
            args.out,
            customer_col=args.customer_col,
            date_col=args.date_col,
            amount_col=args.amount_col,
            calibration_end=args.calibration_end,
            observation_end=args.observation_end,
            extra={name: _value(value) for name, value in args.p},
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {executed} and {executed.parent / 'clv.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
