"""The shipped data: checksums, provenance page, loaders and their errors."""

from __future__ import annotations

import hashlib
import re
import shutil

import pandas as pd
import pytest

import crmlab as cl
from crmlab import datasets


def test_every_shipped_file_matches_its_recorded_checksum(repo_root):
    for entry in datasets.FILES.values():
        data = (repo_root / "datasets" / entry.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256, entry.name


def test_readme_lists_every_file_with_the_checksum_on_disk(repo_root):
    readme = (repo_root / "datasets" / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))
    on_disk = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in (repo_root / "datasets").iterdir()
        if path.name != "README.md"
    }
    assert listed == on_disk


def test_readme_row_counts_match_the_loaders(repo_root):
    readme = (repo_root / "datasets" / "README.md").read_text(encoding="utf-8")
    for entry in datasets.FILES.values():
        row = re.search(rf"^\| `{re.escape(entry.name)}` \|[^|]*\| ([\d,]+) \|", readme, re.M)
        assert row is not None, entry.name
        assert int(row.group(1).replace(",", "")) == entry.rows


def test_cdnow_sample_has_the_published_shape():
    tx = cl.datasets.load_cdnow("sample")
    assert len(tx) == datasets.FILES["cdnow_sample"].rows == 6919
    assert tx["customer_id"].nunique() == 2357
    assert tx["customer_id"].min() == 1 and tx["customer_id"].max() == 2357
    assert pd.api.types.is_datetime64_any_dtype(tx["date"])
    assert tx["date"].min() == pd.Timestamp("1997-01-01")
    assert tx["date"].max() == pd.Timestamp("1998-06-30")
    # Every sample customer made the first purchase in the first quarter of 1997.
    assert tx.groupby("customer_id")["date"].min().max() < pd.Timestamp("1997-04-01")
    assert tx.duplicated().sum() == 21
    assert (tx["amount"] == 0).sum() == 8
    assert (tx["amount"] >= 0).all() and (tx["quantity"] > 0).all()


def test_cdnow_master_has_the_published_shape():
    tx = cl.datasets.load_cdnow("master")
    assert len(tx) == 69659
    assert tx["customer_id"].nunique() == 23570
    assert list(tx.columns) == ["customer_id", "date", "quantity", "amount"]


def test_sample_is_a_subset_of_the_master_file():
    sample = cl.datasets.load_cdnow("sample")
    master = cl.datasets.load_cdnow("master")
    joined = sample.merge(
        master,
        left_on=["master_id", "date", "quantity", "amount"],
        right_on=["customer_id", "date", "quantity", "amount"],
        how="left",
        indicator=True,
    )
    assert (joined["_merge"] == "both").all()


def test_unknown_cdnow_variant_is_a_clear_error():
    with pytest.raises(ValueError, match="'sample' or 'master'"):
        cl.datasets.load_cdnow("full")


def test_survival_table_is_the_published_one():
    survival = cl.datasets.load_survival()
    assert survival.index.tolist() == list(range(13))
    assert survival["regular"].tolist()[:8] == [1000, 631, 468, 382, 326, 289, 262, 241]
    assert survival["high_end"].iloc[-1] == 394
    assert survival.diff().dropna().le(0).all().all()


def test_donations_total_the_cohort():
    donations = cl.datasets.load_donations()
    assert donations["weight"].sum() == 11104
    assert (donations["n"] == 6).all()
    assert (donations["t_x"] >= donations["x"]).all()
    assert len(donations) == 22


def test_published_summary_matches_the_paper_counts():
    summary = cl.datasets.load_cdnow_published_summary()
    assert len(summary) == 2357
    assert int((summary["x"] > 0).sum()) == 946
    assert summary.loc[1, ["x", "t_x", "T"]].tolist() == [2.0, 30.43, 38.86]


def _copy_data(repo_root, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(repo_root / "datasets", target)
    return target


def test_an_altered_file_is_refused(repo_root, tmp_path, monkeypatch):
    target = _copy_data(repo_root, tmp_path)
    with (target / "donations.csv").open("a") as handle:
        handle.write("7,7,6,1\n")
    monkeypatch.setenv("CRMLAB_DATA_DIR", str(target))
    with pytest.raises(datasets.DataFileError, match=r"donations\.csv has been altered"):
        cl.datasets.load_donations()


def test_a_missing_file_is_named(repo_root, tmp_path, monkeypatch):
    target = _copy_data(repo_root, tmp_path)
    (target / "CDNOW_sample.txt").unlink()
    monkeypatch.setenv("CRMLAB_DATA_DIR", str(target))
    with pytest.raises(datasets.DataFileError, match=r"CDNOW_sample\.txt is missing"):
        cl.datasets.load_cdnow("sample")


def test_unknown_key_lists_the_known_ones():
    with pytest.raises(KeyError, match="cdnow_sample"):
        datasets.data_path("cdnow_full")
