"""Load the data sets that ship with crmlab, checked and with tidy columns.

Nothing here touches the network: every file sits in the repository's
``datasets/`` folder (or, after a non-editable install, inside the package), and
each is checked against the sha256 recorded in :data:`FILES` before it is read.
``datasets/README.md`` tells where each file comes from and under which licence.

>>> import crmlab as cl
>>> tx = cl.datasets.load_cdnow("sample")
>>> tx.shape
(6919, 5)
>>> list(tx.columns)
['customer_id', 'date', 'quantity', 'amount', 'master_id']
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd

__all__ = [
    "FILES",
    "DataFileError",
    "data_dir",
    "data_path",
    "load_cdnow",
    "load_cdnow_published_summary",
    "load_donations",
    "load_survival",
]


@dataclass(frozen=True)
class DataFile:
    """A shipped file: its name, checksum and the number of data rows it holds."""

    name: str
    sha256: str
    rows: int


#: Every shipped data file, keyed by a short name. ``datasets/README.md`` repeats
#: the checksums for readers; a test keeps the two in step.
FILES: dict[str, DataFile] = {
    "cdnow_sample": DataFile(
        "CDNOW_sample.txt",
        "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a",
        6919,
    ),
    "cdnow_master": DataFile(
        "CDNOW_master.txt",
        "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
        69659,
    ),
    "cdnow_published_summary": DataFile(
        "cdnow_customers_summary_with_transactions.csv",
        "7ddd11b55be3227edfc1d58675154e96971b0de3ad37ddd9280d1dba154b8b2f",
        2357,
    ),
    "donations": DataFile(
        "donations.csv",
        "82c25f26a201ff047e1cd5fe3d7967a45db92a025ecedee72ff8940e50104544",
        22,
    ),
    "survival": DataFile(
        "fader_hardie_2007_survival.csv",
        "d7c1522aaf2bbd07722ab0dc14a4833a3f291aa46510cde691a008892ba2ddb7",
        13,
    ),
}


class DataFileError(RuntimeError):
    """A shipped data file is missing or differs from the one crmlab was built with."""


def data_dir() -> Path:
    """Return the folder that holds the shipped data files.

    The environment variable ``CRMLAB_DATA_DIR`` wins; then the copy installed
    inside the package (a wheel); then the repository's ``datasets/`` folder (a
    source checkout or an editable install).

    >>> (data_dir() / "CDNOW_sample.txt").is_file()
    True
    """
    override = os.environ.get("CRMLAB_DATA_DIR")
    if override:
        return Path(override)
    installed = Path(__file__).parent / "_datasets"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "datasets"


def data_path(key: str, *, verify: bool = True) -> Path:
    """Return the path of the shipped file ``key`` (a key of :data:`FILES`), checked.

    Raises
    ------
    KeyError
        If ``key`` names no shipped file; the message lists the known keys.
    DataFileError
        If the file is missing, or its sha256 differs from the recorded one.

    >>> data_path("donations").name
    'donations.csv'
    """
    if key not in FILES:
        raise KeyError(f"no shipped data file {key!r}; known: {', '.join(sorted(FILES))}")
    entry = FILES[key]
    path = data_dir() / entry.name
    if not path.is_file():
        raise DataFileError(
            f"data file {entry.name} is missing from {path.parent}; "
            "reinstall crmlab or restore datasets/ from the repository"
        )
    if verify:
        digest = _sha256(path, path.stat().st_mtime_ns, path.stat().st_size)
        if digest != entry.sha256:
            raise DataFileError(_altered_message(path, digest, entry.sha256))
    return path


def _altered_message(path: Path, digest: str, expected: str) -> str:
    message = f"data file {path} has been altered: sha256 {digest}, expected {expected}; "
    data = path.read_bytes()
    if b"\r\n" in data and hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest() == expected:
        # The usual culprit on Windows: git's core.autocrlf=true rewrote LF as CRLF.
        # A checkout alone may skip files whose index entry still matches their stat
        # data; taken out of the index first, every file is written afresh.
        return message + (
            "its line endings were changed to Windows ones (CRLF), most likely by git's "
            "core.autocrlf setting. To restore the files exactly as the repository holds "
            "them, run in the course folder\n"
            "    git config core.autocrlf false\n"
            "    git rm -r -q --cached datasets\n"
            "    git checkout HEAD -- datasets\n"
            "(the repository's .gitattributes keeps them byte for byte from then on), "
            "or clone the course again with\n"
            "    git clone -c core.autocrlf=false <address of the course>"
        )
    return message + "restore it from the repository (git checkout -- datasets)"


@lru_cache(maxsize=32)
def _sha256(path: Path, mtime_ns: int, size: int) -> str:
    # mtime and size are part of the cache key so that an edited file is hashed again.
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_cdnow(which: Literal["sample", "master"] = "sample") -> pd.DataFrame:
    """Load the CDNOW transaction log (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    which : {"sample", "master"}
        ``"sample"``: the 1/10 sample used in the BG/NBD paper, 2,357 customers and
        6,919 rows. ``"master"``: all 23,570 customers of the cohort, 69,659 rows.

    Returns
    -------
    pandas.DataFrame
        One row per recorded purchase line, sorted as shipped, with columns
        ``customer_id`` (int), ``date`` (datetime64), ``quantity`` (CDs bought, int)
        and ``amount`` (US dollars, float). The sample also keeps ``master_id``,
        the customer's id in the master file.

    Examples
    --------
    >>> tx = load_cdnow("master")
    >>> tx["customer_id"].nunique(), len(tx)
    (23570, 69659)
    >>> str(tx["date"].min().date()), str(tx["date"].max().date())
    ('1997-01-01', '1998-06-30')
    """
    if which == "sample":
        raw = pd.read_csv(
            data_path("cdnow_sample"),
            sep=r"\s+",
            header=None,
            names=["master_id", "customer_id", "date", "quantity", "amount"],
            dtype={"date": str},
        )
        frame = raw[["customer_id", "date", "quantity", "amount", "master_id"]]
    elif which == "master":
        raw = pd.read_csv(
            data_path("cdnow_master"),
            sep=r"\s+",
            header=0,
            names=["customer_id", "date", "quantity", "amount"],
            dtype={"date": str},
        )
        frame = raw
    else:
        raise ValueError(f"which must be 'sample' or 'master', got {which!r}")
    frame = frame.copy()
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["quantity"] = frame["quantity"].astype("int64")
    frame["amount"] = frame["amount"].astype("float64")
    return frame.reset_index(drop=True)


def load_cdnow_published_summary() -> pd.DataFrame:
    """Load the published (x, t_x, T, zbar) summary of the CDNOW sample.

    Fader & Hardie distributed this table with their BG/NBD and Gamma–Gamma notes:
    for each of the 2,357 customers, repeat transactions ``x`` in the 39-week
    calibration period, time of the last one ``t_x`` and length of observation
    ``T`` (weeks), and ``zbar``, the mean value of the repeat transactions
    (0 when ``x == 0``). Useful as a golden reference for
    :func:`crmlab.transactions.summarize`.

    >>> s = load_cdnow_published_summary()
    >>> s.loc[1].tolist()
    [2.0, 30.43, 38.86, 22.35]
    """
    frame = pd.read_csv(data_path("cdnow_published_summary"), index_col="ID")
    frame.index.name = "customer_id"
    return frame.astype("float64")


def load_survival() -> pd.DataFrame:
    """Load the survival of two customer groups over 12 years (Fader & Hardie 2007).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``year`` (0–12); columns ``regular`` and ``high_end`` give how
        many of the 1,000 customers acquired at year 0 are still customers.

    >>> s = load_survival()
    >>> s.loc[[0, 1, 7, 12], "regular"].tolist()
    [1000, 631, 241, 173]
    """
    return pd.read_csv(data_path("survival"), index_col="year")


def load_donations() -> pd.DataFrame:
    """Load the donations data behind the BG/BB model (Fader, Hardie & Shang 2010).

    11,104 members of the 1995 cohort of a non-profit's donors, each with six
    annual donation opportunities (1996–2001), in compressed form: one row per
    observed pattern summary.

    Returns
    -------
    pandas.DataFrame
        Columns ``x`` (donations in the six years), ``t_x`` (year of the last
        donation, 0 if none), ``n`` (opportunities, 6) and ``weight`` (donors
        sharing that row).

    >>> d = load_donations()
    >>> int(d["weight"].sum()), list(d.columns)
    (11104, ['x', 't_x', 'n', 'weight'])
    """
    frame = pd.read_csv(data_path("donations"))
    frame = frame.rename(
        columns={"frequency": "x", "recency": "t_x", "periods": "n", "weights": "weight"}
    )
    return frame[["x", "t_x", "n", "weight"]].astype("int64")
