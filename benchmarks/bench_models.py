"""Fitting speed against lifetimes 0.11.3 and pymc-marketing, with the log-likelihood each reaches.

* BG/NBD and Pareto/NBD on the CDNOW sample (2,357 customers, 39 weeks): faster than
  ``lifetimes.BetaGeoFitter`` / ``ParetoNBDFitter`` with the same log-likelihood.
* MBG/NBD on the CDNOW summary against ``lifetimes.ModifiedBetaGeoFitter``.
  These three rows (issue 17 §5: target 10x lifetimes) time both sides as the median
  of 7 fits, ours with standard errors, one side after the other in the same run.
* BG/NBD on 1,000,000 simulated customers whose times are recorded to the day, end
  to end (fit on the distinct (x, t_x, T) rows with their counts), against
  ``lifetimes.BetaGeoFitter`` on the same frame (issue 17 §5: target 10x lifetimes),
  once on a base acquired over 12 weeks and once on a two-year base acquired over a
  year, where a third of the customers have a row of their own.
* Gamma-Gamma on 100,000 simulated repeat buyers with unrounded spend (nearly every
  row distinct) against ``lifetimes.GammaGammaFitter``.
* Pareto/NBD with a 0/1 covariate on both processes, 1,000,000 simulated customers
  to the day (target under 10 s; lifetimes has no covariates), the BG/NBD likewise
  (fit and standard errors), and Pareto/NBD on
  3,000,000 customers of the two-year base (target under 30 s).
* Part ``new``: BG/CNBD-k and MBG/CNBD-k (k chosen by likelihood) on CDNOW and on
  100,000 simulated customers, against crmlab's own one-k fit, and with a 0/1 covariate
  on both processes against the same base without it; the GGom/NBD
  (:func:`ggom_rows`) on CDNOW and 100,000 simulated customers to the day, against our
  Pareto/NBD, which it nests, and its DERT and P(X(T, T+t] = n) for those customers.
  No Python package has these models.
* Part ``time-varying``: Pareto/NBD with time-varying covariates (a season on
  purchasing, a per-customer mailing status on dropout, weekly periods): reading the
  log and the covariate table, then fit and standard errors; and the same model with
  covariates of the calendar alone (season, promotion weeks, a competitor's campaign),
  one row per week shared by 50,000 customers, who then merge into weighted rows. The
  only other implementation is CLVTools (R): no peer in the same run.
  ``python benchmarks/bench_models.py time-varying 20000`` or ``calendar 50000`` runs
  one of them alone at that size (``calendar 1000000 none``: a million customers kept
  at their times of day, none merged; run it under ``flock /work/wt/bigmem.lock``).
  The fit's CPU time is in the note, since wall time on a shared machine depends on
  the load.
* Part ``researcher``: BG/NBD (with standard errors) and Gamma-Gamma (repeat buyers,
  with standard errors) on the researcher's log of ``bench_notebook.py``, summarised
  as notebook 08 does (weeks, same-day purchases merged, calibration to 2023-06-30),
  against ``lifetimes.BetaGeoFitter`` and ``GammaGammaFitter`` on the same summary
  (issue 17 §5: target 10x lifetimes). ``researcher 3000000`` runs it alone at 3 M
  customers (30 M rows; under ``flock /work/wt/bigmem.lock``).
* When ``pymc_marketing`` imports (it needs Python >= 3.12: run this file with a
  separate environment that has it), its MAP fits of BG/NBD and Pareto/NBD on CDNOW,
  without and with a 0/1 covariate on both processes. Its time includes building
  and compiling the PyMC graph, which is part of every fit it makes.

``python benchmarks/bench_models.py [small] [new] [time-varying] [researcher] [large]`` prints the
table of the parts named (all by default); run it ``nice``'d and alone (the 3 M base
needs a few GB).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pandas as pd

import crmlab as cl


def _timed(func, repeats: int = 3):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def _median_timed(func, repeats: int = 7):
    """Median seconds of ``repeats`` calls (and the last result): on a loaded machine a
    single shot or the best one favours whichever side was lucky; both sides of the
    CDNOW rows are timed this way, one after the other, in the same run."""
    import statistics

    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _peer_loglik(ours_class, fitter, data) -> float:
    # lifetimes fits on rescaled time, so its own objective is not comparable: evaluate
    # the paper's likelihood, ours, at the parameters it found.
    params = {name: float(value) for name, value in fitter.params_.items()}
    return ours_class().set_params(**params).log_likelihood(data)


PARTS = ("small", "new", "time-varying", "researcher", "large")


def main(parts: tuple[str, ...] = PARTS) -> list[dict]:
    """The rows of the table; ``parts``: "small" (CDNOW, 100k buyers, pymc-marketing),
    "new" (BG/CNBD-k, GGom/NBD), "time-varying" (the time-varying Pareto/NBD, minutes),
    "researcher" (the researcher's log, 100,000 customers) and "large" (the 1 M and 3 M
    bases, for which a shared machine's memory lock is taken)."""
    summary = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")
    rows = []
    try:
        import lifetimes
    except ImportError:
        lifetimes = None

    for name, ours_class, peer_name in [
        ("BG/NBD", cl.models.BGNBD, "BetaGeoFitter"),
        ("Pareto/NBD", cl.models.ParetoNBD, "ParetoNBDFitter"),
    ]:

        def ours(cls=ours_class):
            # lifetimes computes the Hessian inside fit; ours waits to be asked, so ask.
            model = cls().fit(summary)
            model.standard_errors  # noqa: B018
            return model

        ours_s, model = _median_timed(ours)
        row = {
            "benchmark": f"{name} fit and standard errors, CDNOW sample",
            "ours_s": ours_s,
            "peer": f"lifetimes.{peer_name}",
            "peer_s": None,
            "ratio": None,
            "note": f"median of 7; loglik ours {model.loglik:.2f}",
        }
        if lifetimes is not None:
            peer_class = getattr(lifetimes, peer_name)

            def peer(cls=peer_class):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return cls().fit(summary["x"], summary["t_x"], summary["T"])

            peer_s, fitter = _median_timed(peer)
            row.update(peer_s=peer_s, ratio=peer_s / ours_s)
            row["note"] += f", lifetimes {_peer_loglik(ours_class, fitter, summary):.2f}"
        rows.append(row)

    published = cl.datasets.load_cdnow_published_summary()
    ours_s, mbg = _median_timed(lambda: _with_errors(cl.models.MBGNBD().fit(published)))
    row = {
        "benchmark": "MBG/NBD fit and standard errors, CDNOW summary",
        "ours_s": ours_s,
        "peer": "lifetimes.ModifiedBetaGeoFitter",
        "peer_s": None,
        "ratio": None,
        "note": f"median of 7; loglik ours {mbg.loglik:.2f}",
    }
    if lifetimes is not None:

        def mbg_peer():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return lifetimes.ModifiedBetaGeoFitter().fit(
                    published["x"], published["t_x"], published["T"]
                )

        peer_s, fitter = _median_timed(mbg_peer)
        row.update(peer_s=peer_s, ratio=peer_s / ours_s)
        row["note"] += f", lifetimes {_peer_loglik(cl.models.MBGNBD, fitter, published):.2f}"
    rows.append(row)

    if "small" in parts:
        rows.append(_gamma_gamma_row(lifetimes))
        rows.extend(_pymc_marketing_rows(summary))
    else:
        rows = []  # the CDNOW rows take seconds; they are left out of a "large" run
    if "new" in parts:
        rows.extend(_cnbd_rows())
        rows.extend(ggom_rows(summary))
    if "time-varying" in parts:
        rows.extend(time_varying_rows())
        rows.extend(time_varying_calendar_rows())
    if "researcher" in parts:
        rows.extend(researcher_rows())
    if "large" not in parts:
        return rows
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    bases = {
        "1,000,000 simulated customers": _on_day_grid(
            cl.models.BGNBD().set_params(**truth), 1_000_000
        ),
        "1,000,000 customers of a two-year base": _on_day_grid(
            cl.models.BGNBD().set_params(**truth), 1_000_000, weeks=104.0, acquisition_days=365
        ),
    }
    for label, frame in bases.items():
        big_s, big = _timed(lambda frame=frame: cl.models.BGNBD().fit(frame), repeats=1)
        row = {
            "benchmark": f"BG/NBD fit, {label}, times to the day",
            "ours_s": big_s,
            "peer": "lifetimes.BetaGeoFitter",
            "peer_s": None,
            "ratio": None,
            "note": f"{big.n_rows:,} distinct rows; r={big.params['r']:.3f} (true 0.243)",
        }
        if lifetimes is not None:

            def big_peer(frame=frame):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return lifetimes.BetaGeoFitter().fit(frame["x"], frame["t_x"], frame["T"])

            peer_s, fitter = _timed(big_peer, repeats=1)
            row.update(peer_s=peer_s, ratio=peer_s / big_s)
            row["note"] += f"; lifetimes r={fitter.params_['r']:.3f}"
        rows.append(row)

    covariate = cl.models.ParetoNBD(purchase_covariates=["g"], dropout_covariates=["g"])
    covariate.set_params(
        r=0.55, alpha=10.58, s=0.61, beta=11.67, **{"purchase.g": 0.3, "dropout.g": -0.3}
    )
    frame = _on_day_grid(covariate, 1_000_000, covariate=True)
    cov_s, fitted = _timed(
        lambda: cl.models.ParetoNBD(purchase_covariates=["g"], dropout_covariates=["g"]).fit(frame),
        repeats=1,
    )
    rows.append(
        {
            "benchmark": "Pareto/NBD with a covariate on both processes, 1,000,000 customers",
            "ours_s": cov_s,
            "peer": "target",
            "peer_s": 10.0,
            "ratio": 10.0 / cov_s,
            "note": f"{fitted.n_rows:,} distinct rows; purchase.g="
            f"{fitted.params['purchase.g']:.3f} (true 0.3), dropout.g="
            f"{fitted.params['dropout.g']:.3f} (true -0.3)",
        }
    )
    rows.append(_bgnbd_covariate_row(truth))
    pareto = cl.models.ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    large = _on_day_grid(pareto, 3_000_000, weeks=104.0, acquisition_days=365)
    large_s, fitted = _timed(lambda: cl.models.ParetoNBD().fit(large), repeats=1)
    errors_s, _ = _timed(lambda: fitted.standard_errors, repeats=1)
    rows.append(
        {
            "benchmark": "Pareto/NBD fit, 3,000,000 customers of a two-year base, times to the day",
            "ours_s": large_s,
            "peer": "target",
            "peer_s": 30.0,
            "ratio": 30.0 / large_s,
            "note": f"{fitted.n_rows:,} distinct rows; standard errors {errors_s:.1f} s more; "
            f"r={fitted.params['r']:.3f} (true 0.55), s={fitted.params['s']:.3f} (true 0.61)",
        }
    )
    return rows


def _bgnbd_covariate_row(truth: dict) -> dict:
    """BG/NBD with a 0/1 covariate on both processes, 1 M customers: fit and standard errors."""
    options = {"purchase_covariates": ["g"], "dropout_covariates": ["g"]}
    coefficients = {"purchase.g": 0.3, "dropout.g": -0.3}
    simulated = cl.models.BGNBD(**options).set_params(**truth, **coefficients)
    frame = _on_day_grid(simulated, 1_000_000, covariate=True)
    seconds, fitted = _timed(lambda: _with_errors(cl.models.BGNBD(**options).fit(frame)), repeats=1)
    errors = fitted.standard_errors
    return {
        "benchmark": "BG/NBD with a covariate on both processes, fit and standard errors, "
        "1,000,000 customers",
        "ours_s": seconds,
        "peer": "none (lifetimes has no covariates)",
        "peer_s": None,
        "ratio": None,
        "note": f"{fitted.n_rows:,} distinct rows; {fitted.message}; "
        + ", ".join(
            f"{name}={fitted.params[name]:.3f} ± {errors[name]:.3f} (true {true})"
            for name, true in coefficients.items()
        ),
    }


def researcher_rows(customers: int = 100_000) -> list[dict]:
    """BG/NBD and Gamma-Gamma fits on the researcher's log, crmlab then lifetimes.

    The log is generated by ``bench_notebook.generate`` (about 10 rows a customer) and
    summarised as notebook 08 summarises its calibration period; below 1 M customers
    each side is the median of 5 fits, above it a single fit (lifetimes takes minutes).
    """
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))  # bench_notebook is a sibling script
    from bench_notebook import generate

    try:
        import lifetimes
    except ImportError:
        lifetimes = None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.parquet"
        n_rows = generate(path, customers)
        # as notebook 08 reads and summarises its calibration period (pyarrow needed)
        log = pd.read_parquet(path)
    summary = cl.transactions.summarize(log, "2023-06-30", unit="W", merge="day")
    del log
    repeats = 5 if customers < 1_000_000 else 1

    def timer(func):
        return _median_timed(func, repeats) if repeats > 1 else _timed(func, repeats=1)

    how = f"median of {repeats}" if repeats > 1 else "single fits"
    label = f"{customers:,} customers of the researcher's log ({n_rows:,} rows)"
    history = summary[["x", "t_x", "T"]]
    buyers = summary.loc[summary["x"] > 0, ["x", "monetary"]]
    buyers = buyers[buyers["monetary"] > 0]
    # fit(compress="auto") leaves mostly distinct rows unmerged; say how many are distinct
    distinct = len(history.drop_duplicates())
    spend_distinct = len(buyers.drop_duplicates())
    rows = []

    ours_s, model = timer(lambda: _with_errors(cl.models.BGNBD().fit(history)))
    row = {
        "benchmark": f"BG/NBD fit and standard errors, {label}",
        "ours_s": ours_s,
        "peer": "lifetimes.BetaGeoFitter",
        "peer_s": None,
        "ratio": None,
        "note": f"{how}; {model.n_rows:,} rows fitted ({distinct:,} distinct); "
        f"loglik ours {model.loglik:.2f}",
    }
    if lifetimes is not None:

        def peer():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return lifetimes.BetaGeoFitter().fit(history["x"], history["t_x"], history["T"])

        peer_s, fitter = timer(peer)
        row.update(peer_s=peer_s, ratio=peer_s / ours_s)
        row["note"] += f", lifetimes {_peer_loglik(cl.models.BGNBD, fitter, history):.2f}; " + (
            ", ".join(
                f"{k} {model.params[k]:.4f}/{fitter.params_[k]:.4f}"
                for k in ("r", "alpha", "a", "b")
            )
        )
    rows.append(row)

    ours_s, spend = timer(lambda: _with_errors(cl.models.GammaGamma().fit(buyers)))
    row = {
        "benchmark": f"Gamma-Gamma fit and standard errors, {len(buyers):,} repeat buyers of "
        f"the {label}",
        "ours_s": ours_s,
        "peer": "lifetimes.GammaGammaFitter",
        "peer_s": None,
        "ratio": None,
        "note": f"{how}; {spend.n_rows:,} rows fitted ({spend_distinct:,} distinct); "
        f"loglik ours {spend.loglik:.2f}",
    }
    if lifetimes is not None:
        peer_s, found, peer_loglik = _lifetimes_gamma_gamma(lifetimes, buyers, timer)
        row.update(peer_s=peer_s, ratio=peer_s / ours_s)
        row["note"] += f", lifetimes {peer_loglik:.2f}; " + ", ".join(
            f"{k} {spend.params[k]:.4f}/{found[k]:.4f}" for k in ("p", "q", "gamma")
        )
    rows.append(row)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    for row in rows:
        row["note"] += f"; load average {load}"
        print(row, flush=True)
    return rows


def _gamma_gamma_row(lifetimes) -> dict:
    """Gamma-Gamma on 100,000 simulated repeat buyers, spend not rounded."""
    rng = np.random.default_rng(2)
    x = rng.poisson(2.0, 120_000).astype(float)
    x = x[x > 0][:100_000]
    spend = cl.models.GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44).simulate(x, seed=3)
    frame = pd.DataFrame({"x": x, "monetary": spend})
    ours_s, model = _timed(lambda: _with_errors(cl.models.GammaGamma().fit(frame)))
    row = {
        "benchmark": "Gamma-Gamma fit and standard errors, 100,000 simulated repeat buyers",
        "ours_s": ours_s,
        "peer": "lifetimes.GammaGammaFitter",
        "peer_s": None,
        "ratio": None,
        "note": f"{model.n_rows:,} distinct rows; loglik ours {model.loglik:.2f}",
    }
    if lifetimes is not None:
        peer_s, _, peer_loglik = _lifetimes_gamma_gamma(lifetimes, frame)
        row.update(peer_s=peer_s, ratio=peer_s / ours_s)
        row["note"] += f", lifetimes {peer_loglik:.2f}"
    return row


def _lifetimes_gamma_gamma(lifetimes, buyers: pd.DataFrame, timer=_timed):
    """lifetimes' Gamma-Gamma fit to ``buyers`` (x, monetary), timed by ``timer``: its
    seconds, its parameters under our names and their log-likelihood by our model."""

    def peer():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lifetimes.GammaGammaFitter().fit(buyers["x"], buyers["monetary"])

    peer_s, fitter = timer(peer)
    found = fitter.params_  # lifetimes calls gamma "v"
    params = {"p": found["p"], "q": found["q"], "gamma": found["v"]}
    loglik = cl.models.GammaGamma().set_params(**params).log_likelihood(buyers)
    return peer_s, params, loglik


def _pymc_marketing_rows(summary: pd.DataFrame) -> list[dict]:
    """pymc-marketing's MAP fits on CDNOW, when it is installed (Python >= 3.12)."""
    try:
        import pymc_marketing
        from pymc_marketing import clv
    except ImportError:
        return []
    rng = np.random.default_rng(4)
    g = rng.integers(0, 2, len(summary)).astype(float)
    data = pd.DataFrame(
        {
            "customer_id": np.arange(len(summary)),
            "frequency": summary["x"].to_numpy(),
            "recency": summary["t_x"].to_numpy(),
            "T": summary["T"].to_numpy(),
            "g": g,
        }
    )
    ours_data = summary[["x", "t_x", "T"]].assign(g=g)
    rows = []
    for name, ours_class, peer_class in [
        ("BG/NBD", cl.models.BGNBD, clv.BetaGeoModel),
        ("Pareto/NBD", cl.models.ParetoNBD, clv.ParetoNBDModel),
    ]:
        for covariates in (False, True):
            options = (
                {"purchase_covariates": ["g"], "dropout_covariates": ["g"]} if covariates else {}
            )
            config = (
                {"purchase_covariate_cols": ["g"], "dropout_covariate_cols": ["g"]}
                if covariates
                else None
            )

            def ours(cls=ours_class, options=options, covariates=covariates):
                frame = ours_data if covariates else ours_data[["x", "t_x", "T"]]
                return _with_errors(cls(**options).fit(frame))

            def peer(cls=peer_class, config=config):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = cls(model_config=config)
                    model.fit(data, method="map", progressbar=False)
                return model

            ours_s, model = _timed(ours)
            peer_s, _ = _timed(peer, repeats=1)
            label = " with a 0/1 covariate on both processes" if covariates else ""
            rows.append(
                {
                    "benchmark": f"{name}{label} fit and standard errors, CDNOW sample",
                    "ours_s": ours_s,
                    "peer": f"pymc-marketing {pymc_marketing.__version__} MAP",
                    "peer_s": peer_s,
                    "ratio": peer_s / ours_s,
                    "note": f"loglik ours {model.loglik:.2f}; peer time includes compiling "
                    "its graph",
                }
            )
    return rows


def ggom_rows(summary: pd.DataFrame | None = None) -> list[dict]:
    """GGom/NBD fits (with standard errors): CDNOW, and 100,000 simulated customers."""
    if summary is None:
        log = cl.datasets.load_cdnow("sample")
        summary = cl.transactions.summarize(log, "1997-09-30", unit="W")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # b runs to its boundary on CDNOW, as it should
        ours_s, ggom = _timed(lambda: _with_errors(cl.models.GGomNBD().fit(summary)))
        pareto_s, pareto = _timed(lambda: _with_errors(cl.models.ParetoNBD().fit(summary)))
    rows = [
        {
            "benchmark": "GGom/NBD fit and standard errors, CDNOW sample",
            "ours_s": ours_s,
            "peer": "crmlab ParetoNBD, same data",
            "peer_s": pareto_s,
            "ratio": pareto_s / ours_s,
            "note": f"loglik GGom/NBD {ggom.loglik:.3f} (b -> 0, flagged), "
            f"Pareto/NBD {pareto.loglik:.3f}; published -9594.98",
        }
    ]
    truth = {"r": 0.85, "alpha": 4.45, "b": 0.12, "s": 0.75, "beta": 9.55}
    frame = _on_day_grid(cl.models.GGomNBD().set_params(**truth), 100_000)
    big_s, big = _timed(lambda: _with_errors(cl.models.GGomNBD().fit(frame)), repeats=1)
    rows.append(
        {
            "benchmark": "GGom/NBD fit and standard errors, 100,000 simulated customers, "
            "times to the day",
            "ours_s": big_s,
            "peer": "none (no Python peer)",
            "peer_s": None,
            "ratio": None,
            "note": f"{big.n_rows:,} distinct rows; "
            + ", ".join(f"{k}={big.params[k]:.3f} (true {v})" for k, v in truth.items()),
        }
    )
    history = (frame["x"], frame["t_x"], frame["T"])
    delta = np.log(1.15) / 52
    dert_s, _ = _timed(lambda: big.dert(delta, *history), repeats=1)
    pmf_s, _ = _timed(
        lambda: big.conditional_probability_of_purchases(np.arange(10)[:, None], 39.0, *history),
        repeats=1,
    )
    rows.append(
        {
            "benchmark": "GGom/NBD DERT and P(X(T, T+39] = n), n = 0..9, 100,000 customers",
            "ours_s": dert_s + pmf_s,
            "peer": "none (no Python peer)",
            "peer_s": None,
            "ratio": None,
            "note": f"DERT {dert_s:.2f} s, P(X = n) {pmf_s:.2f} s; quadrature once per "
            "distinct row of what it depends on",
        }
    )
    return rows


def _cnbd_rows() -> list[dict]:
    """BG/CNBD-k and MBG/CNBD-k: no Python peer has them; crmlab's BG/NBD gives the scale.

    The fits choose k by likelihood (k = 1, 2, ... until the log-likelihood falls twice),
    so they cost a few fits of the BG/NBD's kind; the 100,000 simulated customers (true
    k = 3) have T on a day grid and exact purchase times, so most rows are distinct.
    """
    log = cl.datasets.load_cdnow("sample")
    litt_s, summary = _timed(lambda: cl.models.regularity_summary(log, "1997-09-30"))
    rows = [
        {
            "benchmark": "regularity_summary (x, t_x, T, litt), CDNOW sample log",
            "ours_s": litt_s,
            "peer": "crmlab summarize",
            "peer_s": None,
            "ratio": None,
            "note": "summarize plus the sum of log gaps; same x, t_x, T",
        }
    ]
    rows[0]["peer_s"], _ = _timed(lambda: cl.transactions.summarize(log, "1997-09-30"))
    rows[0]["ratio"] = rows[0]["peer_s"] / litt_s
    plain = summary[["x", "t_x", "T"]]
    bgnbd_s, _ = _timed(lambda: _with_errors(cl.models.BGNBD().fit(plain)))
    for name, model_class in [("BG/CNBD-k", cl.models.BGCNBD), ("MBG/CNBD-k", cl.models.MBGCNBD)]:
        ours_s, model = _timed(lambda cls=model_class: _with_errors(cls().fit(summary)))
        rows.append(
            {
                "benchmark": f"{name} fit (k chosen) and standard errors, CDNOW sample",
                "ours_s": ours_s,
                "peer": "crmlab BG/NBD fit (one k)",
                "peer_s": bgnbd_s,
                "ratio": bgnbd_s / ours_s,
                "note": f"k = {model.k} of {len(model.k_profile)} tried, "
                f"loglik {model.loglik:.2f}; no Python peer",
            }
        )
    truth = {"r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42}
    n = 100_000
    T = 39.0 - np.random.default_rng(0).integers(0, 84, n) / 7
    sim = cl.models.MBGCNBD(k=3).set_params(**truth).simulate(n, T, seed=1)
    base = pd.DataFrame(sim)
    big_s, big = _timed(lambda: cl.models.MBGCNBD().fit(base), repeats=1)
    one_s, _ = _timed(lambda: cl.models.MBGNBD().fit(base[["x", "t_x", "T"]]), repeats=1)
    rows.append(
        {
            "benchmark": "MBG/CNBD-k fit (k chosen), 100,000 simulated customers (k = 3)",
            "ours_s": big_s,
            "peer": "crmlab MBG/NBD fit (one k)",
            "peer_s": one_s,
            "ratio": one_s / big_s,
            "note": f"{big.n_rows:,} distinct rows; k = {big.k} of {len(big.k_profile)} tried; "
            f"r={big.params['r']:.3f} (true 0.85), a={big.params['a']:.3f} (true 0.79)",
        }
    )
    rows.append(_cnbd_covariate_row(truth, n, T))
    score_s, _ = _timed(
        lambda: (
            big.p_alive(base["x"], base["t_x"], base["T"]),
            big.conditional_expected_purchases(39.0, base["x"], base["t_x"], base["T"]),
        ),
        repeats=1,
    )
    rows.append(
        {
            "benchmark": "MBG/CNBD-k P(alive) and conditional expectation, 100,000 customers",
            "ours_s": score_s,
            "peer": "–",
            "peer_s": None,
            "ratio": None,
            "note": "exact series (BTYDplus approximates this expectation); 39 weeks ahead",
        }
    )
    return rows


def _cnbd_covariate_row(truth: dict, n: int, T: np.ndarray) -> dict:
    """MBG/CNBD-k with a 0/1 covariate on both processes (k chosen), and standard errors.

    No Python package has the model; the row gives the cost of the covariates against
    the fit of the same base without them.
    """
    g = np.random.default_rng(2).integers(0, 2, n).astype(float)
    coefficients = {"purchase.g": 0.5, "dropout.g": -0.6}
    names = {"purchase_covariates": ["g"], "dropout_covariates": ["g"]}
    model = cl.models.MBGCNBD(k=3, **names).set_params(**truth, **coefficients)
    base = pd.DataFrame(model.simulate(n, T, seed=3, covariates={"g": g})).assign(g=g)
    cov_s, fitted = _timed(lambda: _with_errors(cl.models.MBGCNBD(**names).fit(base)), repeats=1)
    plain_s, _ = _timed(
        lambda: _with_errors(cl.models.MBGCNBD().fit(base.drop(columns="g"))), repeats=1
    )
    errors = fitted.standard_errors
    return {
        "benchmark": "MBG/CNBD-k with a covariate on both processes (k chosen) and standard "
        "errors, 100,000 simulated customers (k = 3)",
        "ours_s": cov_s,
        "peer": "crmlab MBG/CNBD-k without covariates, same base",
        "peer_s": plain_s,
        "ratio": plain_s / cov_s,
        "note": f"{fitted.n_rows:,} distinct rows; k = {fitted.k}; "
        + ", ".join(
            f"{k} {fitted.params[k]:.3f} ± {errors[k]:.3f} (true {v})"
            for k, v in coefficients.items()
        ),
    }


# ----- Pareto/NBD with time-varying covariates --------------------------------------------
TIME_VARYING_TRUTH = {
    "r": 0.9,
    "alpha": 8.0,
    "s": 0.8,
    "beta": 15.0,
    "purchase.season": 0.8,
    "dropout.mailing": -0.9,
}


def _time_varying_base(n: int, weeks: int = 66, seed: int = 0):
    """Weekly covariates: a November-December season, and a mailing status per customer
    that flips with probability 0.15 a week; first purchases over 26 weeks."""
    rng = np.random.default_rng(seed)
    grid = pd.date_range("2023-01-02", periods=weeks, freq="7D")
    flips = rng.uniform(size=(n, weeks)) < 0.15
    mailing = (np.cumsum(flips, axis=1) + rng.integers(0, 2, (n, 1))) % 2
    table = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(n), weeks),
            "period": np.tile(grid, n),
            "season": np.tile((grid.month >= 11).astype(float), n),
            "mailing": mailing.ravel().astype(float),
        }
    )
    first = pd.Series(
        grid[0] + pd.to_timedelta(rng.integers(0, 26 * 7, n), "D"), index=np.arange(n)
    )
    return table, first


def time_varying_rows(n: int = 100_000) -> list[dict]:
    end = "2024-03-31"
    names = {"purchase_covariates": ["season"], "dropout_covariates": ["mailing"]}
    truth = cl.models.ParetoNBDTimeVarying(**names).set_params(**TIME_VARYING_TRUTH)
    table, first = _time_varying_base(n)
    # times of day kept: a day-level log merges a heavy buyer's same-day purchases
    log = truth.simulate(table, first, end, merge="none", seed=1)
    read_s, data = _timed(
        lambda: cl.models.time_varying_data(log, table, end, merge="none"), repeats=1
    )
    cpu = time.process_time()
    fit_s, fitted = _timed(
        lambda: _with_errors(cl.models.ParetoNBDTimeVarying(**names).fit(data)), repeats=1
    )
    cpu = time.process_time() - cpu
    se = fitted.standard_errors
    z = {k: (fitted.params[k] - v) / se[k] for k, v in TIME_VARYING_TRUTH.items()}
    columns = fitted.result.data[0]
    return [
        {
            "benchmark": f"Pareto/NBD, time-varying covariates, {n:,} customers: read log + table",
            "ours_s": read_s,
            "peer": "CLVTools (R), not run",
            "peer_s": None,
            "ratio": None,
            "note": f"{len(log):,} transactions, {len(table):,} covariate rows",
        },
        {
            "benchmark": f"Pareto/NBD, time-varying covariates, {n:,} customers: fit + SEs",
            "ours_s": fit_s,
            "peer": "CLVTools (R), not run",
            "peer_s": None,
            "ratio": None,
            "note": f"CPU {cpu:.1f} s; {len(columns['after']):,} pieces after t_x; "
            "(estimate - truth) / SE: " + ", ".join(f"{k} {v:+.1f}" for k, v in z.items()),
        },
    ]


CALENDAR_TRUTH = {
    "r": 0.9,
    "alpha": 8.0,
    "s": 0.8,
    "beta": 15.0,
    "purchase.season": 0.8,
    "purchase.promotion": 0.5,
    "dropout.competitor": 0.7,
}


def time_varying_calendar_rows(n: int = 50_000, merge: str = "day") -> list[dict]:
    """Covariates of the calendar alone (one table row per week, for every customer).

    With ``merge="none"`` the log keeps the times of day, so that hardly two customers
    are alike and the fit works on every customer (no merged rows): the size of a
    per-customer fit, at little memory (the table has 66 rows).
    """
    end = "2024-03-31"
    grid = pd.date_range("2023-01-02", periods=66, freq="7D")
    week = np.arange(len(grid))
    calendar = pd.DataFrame(
        {
            "period": grid,
            "season": (grid.month >= 11).astype(float),
            "promotion": (week % 8 == 3).astype(float),  # one week in eight
            "competitor": ((week // 6) % 3 == 1).astype(float),  # six weeks in eighteen
        }
    )
    names = {
        "purchase_covariates": ["season", "promotion"],
        "dropout_covariates": ["competitor"],
    }
    truth = cl.models.ParetoNBDTimeVarying(**names).set_params(**CALENDAR_TRUTH)
    rng = np.random.default_rng(2)
    first = pd.Series(
        grid[0] + pd.to_timedelta(rng.integers(0, 26 * 7, n), "D"), index=np.arange(n)
    )
    # a day-level log, as real ones are: customers alike by the day merge into one row
    log = truth.simulate(calendar, first, end, seed=3, merge=merge)
    read_s, data = _timed(
        lambda: cl.models.time_varying_data(log, calendar, end, merge=merge), repeats=1
    )
    cpu = time.process_time()
    fit_s, fitted = _timed(
        lambda: _with_errors(cl.models.ParetoNBDTimeVarying(**names).fit(data)), repeats=1
    )
    cpu = time.process_time() - cpu
    se = fitted.standard_errors
    z = {k: (fitted.params[k] - v) / se[k] for k, v in CALENDAR_TRUTH.items()}
    return [
        {
            "benchmark": f"Pareto/NBD, calendar covariates, {n:,} customers: read log + calendar",
            "ours_s": read_s,
            "peer": "CLVTools (R), not run",
            "peer_s": None,
            "ratio": None,
            "note": f"{len(log):,} transactions; {len(calendar)} calendar rows",
        },
        {
            "benchmark": f"Pareto/NBD, calendar covariates, {n:,} customers: fit + SEs",
            "ours_s": fit_s,
            "peer": "CLVTools (R), not run",
            "peer_s": None,
            "ratio": None,
            "note": f"CPU {cpu:.1f} s; {fitted.n_rows:,} distinct rows; "
            f"{len(fitted.result.data[0]['after']):,} pieces after t_x; (estimate - truth) / SE: "
            + ", ".join(f"{k} {v:+.1f}" for k, v in z.items()),
        },
    ]


def _with_errors(model):
    model.standard_errors  # noqa: B018 - lifetimes computes its Hessian inside fit
    return model


def _on_day_grid(
    model, n: int, covariate: bool = False, weeks: float = 39.0, acquisition_days: int = 84
) -> pd.DataFrame:
    """A simulated base acquired over ``acquisition_days``, times recorded by the day."""
    rng = np.random.default_rng(0)
    T = weeks - rng.integers(0, acquisition_days, n) / 7
    extra = {}
    if covariate:
        extra["g"] = rng.integers(0, 2, n).astype(float)
    base = model.simulate(n, T, seed=1, **({"covariates": extra} if covariate else {}))
    frame = pd.DataFrame(base).assign(**extra)
    frame["t_x"] = np.where(frame["x"] > 0, np.maximum(np.round(frame["t_x"] * 7), 1) / 7, 0.0)
    frame["t_x"] = np.minimum(frame["t_x"], frame["T"])  # rounding must not pass T
    return frame


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from run import format_table

    parts = tuple(sys.argv[1:])
    if parts[:1] in (("time-varying",), ("calendar",)) and len(parts) > 1:
        size = int(parts[1])
        if parts[0] == "time-varying":
            print(format_table(time_varying_rows(size)))
        else:  # "calendar N [none]": times of day kept with "none"
            print(format_table(time_varying_calendar_rows(size, *parts[2:3])))
    elif parts[:1] == ("researcher",) and len(parts) > 1:
        print(format_table(researcher_rows(int(parts[1]))))
    elif parts == ("calendar",):
        print(format_table(time_varying_calendar_rows()))
    else:
        print(format_table(main(parts or PARTS)))
