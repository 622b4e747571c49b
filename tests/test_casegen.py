"""Synthetic case exports and the figures `sim check` compares, checked by hand (issue 13, 3 and 5).

The generator is checked on a hand-built event log whose case table is worked out by hand, the
figures on a hand-built case table, and the written messy export by reading it back with the
project's own reader (c1-fit's ``read_cases``): what one writes the other must read unchanged.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from sim.config.cases import read_cases
from sim.model import eventlog
from sim.run import casefigures as cf
from sim.run import casegen
from sim.run.casegen import MESSY, ExportStyle, Timeline, cases_from_events, write_export

D0 = dt.date(2020, 1, 1)
TL = Timeline(D0, dt.date(2020, 1, 11), dt.date(2020, 3, 30))  # days 10 .. 89 (as_of: day 89)


def _log(rows: list[tuple]) -> pl.DataFrame:
    """A one-replication event log from (citizen, activity, start, end, hours) tuples."""
    raw = [[c, a, s, e, "", h, "classic", 0] for c, a, s, e, h in rows]
    return eventlog.frame([eventlog.raw_frame(raw)], D0)


LOG = _log(
    [
        # 1: referred day 12.5, decided 20.2, waits, support from 40 to 60.7: closed
        (1, "referral", 12.5, 12.5, None),
        (1, "assessment", 12.5, 15.0, None),
        (1, "decision", 18.0, 19.0, None),
        (1, "decision delay", 19.0, 20.2, None),
        (1, "support waiting list", 21.0, 40.0, None),
        (1, "support", 40.0, 60.7, 4.256),
        (1, "exit: completed", 60.7, 60.7, None),
        # 2: refused on day 30.9
        (2, "referral", 25.0, 25.0, None),
        (2, "decision", 28.0, 29.0, None),
        (2, "decision delay", 29.0, 30.9, None),
        (2, "exit: rejected", 30.9, 30.9, None),
        # 3: granted day 35, gave up waiting day 70.1
        (3, "referral", 31.0, 31.0, None),
        (3, "decision delay", 33.0, 35.0, None),
        (3, "support waiting list", 35.0, 70.1, None),
        (3, "exit: gave up waiting", 70.1, 70.1, None),
        # 4: referred day 80, decision ends day 95 (after the export date): undecided
        (4, "referral", 80.0, 80.0, None),
        (4, "decision delay", 90.0, 95.0, None),
        # 5: referred before the period (day 2), short course from day 8, ends day 50
        (5, "referral", 2.0, 2.0, None),
        (5, "decision delay", 5.0, 7.0, None),
        (5, "short course", 8.0, 50.0, 3.0),
        (5, "exit: completed", 50.0, 50.0, None),
        # 6: referred day 1, closed day 9 (before the period): never exported
        (6, "referral", 1.0, 1.0, None),
        (6, "decision delay", 3.0, 9.0, None),
        (6, "exit: rejected", 9.0, 9.0, None),
        # 7: initial caseload in support from day 0, still open at the end
        (7, "in caseload at start", 0.0, 0.0, None),
        (7, "support", 0.0, None, 6.0),
        # 8: decided day 60, support starts day 89.5 (on the export date) and runs on
        (8, "referral", 50.0, 50.0, None),
        (8, "decision delay", 55.0, 60.0, None),
        (8, "support", 89.5, None, 2.0),
    ]
)


def _day(n: float) -> dt.date:
    return D0 + dt.timedelta(days=math.floor(n))


def test_case_table_from_a_hand_built_log() -> None:
    cases = cases_from_events(LOG, TL)
    by = {row["citizen_id"]: row for row in cases.iter_rows(named=True)}
    assert set(by) == {f"SYN-P{c:06d}" for c in (1, 2, 3, 4, 5, 7, 8)}  # 6 closed before
    one = by["SYN-P000001"]
    assert (one["referral_date"], one["decision_date"], one["decision"]) == (
        _day(12.5), _day(20.2), "granted",  # the decision is the end of the intake's last step
    )  # fmt: skip
    assert (one["start_date"], one["end_date"], one["hours_per_week"]) == (
        _day(40), _day(60.7), 4.26,
    )  # fmt: skip
    two = by["SYN-P000002"]
    assert (two["decision"], two["decision_date"], two["end_date"]) == ("refused", _day(30.9), None)
    three = by["SYN-P000003"]  # gave up waiting: closed without a start
    assert (three["decision"], three["start_date"], three["end_date"]) == (
        "granted", None, _day(70.1),
    )  # fmt: skip
    four = by["SYN-P000004"]  # decided after the export date: undecided in the export
    assert (four["decision_date"], four["decision"]) == (None, None)
    five = by["SYN-P000005"]  # referred before the period, open on its start
    assert (five["paragraph"], five["referral_date"], five["hours_per_week"]) == (
        "82b",
        _day(2),
        3.0,
    )
    seven = by["SYN-P000007"]  # the initial caseload: referral on day 0, no end
    assert (seven["referral_date"], seven["start_date"], seven["end_date"]) == (D0, D0, None)
    eight = by["SYN-P000008"]  # starts on the export date itself (day 89.5 < 90)
    assert (eight["start_date"], eight["end_date"]) == (_day(89.5), None)
    assert cases["case_id"].str.starts_with("SYN-").all()


def test_only_cases_referred_in_the_period_without_open_at_start() -> None:
    cases = cases_from_events(LOG, TL, open_at_start=False)
    assert sorted(cases["citizen_id"]) == [f"SYN-P{c:06d}" for c in (1, 2, 3, 4, 8)]


def _frame(cases: pl.DataFrame) -> pl.DataFrame:
    return cases.select(casegen.CASE_COLUMNS).sort("case_id")


@pytest.mark.parametrize("style", [ExportStyle(), MESSY, ExportStyle(";", "%d.%m.%Y", True)])
def test_written_export_reads_back_unchanged(tmp_path, style) -> None:
    cases = cases_from_events(LOG, TL)
    path = write_export(cases, tmp_path / "synthetic-cases.csv", style)
    back = read_cases(path, TL.as_of)
    assert back.as_of == TL.as_of
    assert _frame(back.frame).equals(_frame(cases))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == style.bom
    assert not list(tmp_path.glob("*.partial"))


def test_messy_export_is_messy(tmp_path) -> None:
    cases = cases_from_events(LOG, TL)
    text = write_export(cases, tmp_path / "x-example.csv", MESSY).read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert sorted(header) == sorted(casegen.CASE_COLUMNS) and header != list(casegen.CASE_COLUMNS)
    assert "4,26" in text and _day(40).strftime("%d-%m-%Y") in text


# ------------------------------------------------------------------------------ figures


def _cases(rows: list[tuple]) -> pl.DataFrame:
    """Cases from (referral, decision_date, decision, start, end) with dates as day offsets."""

    def d(x: int | None) -> dt.date | None:
        return None if x is None else D0 + dt.timedelta(days=x)

    return pl.DataFrame(
        {
            "referral_date": [d(r[0]) for r in rows],
            "decision_date": [d(r[1]) for r in rows],
            "decision": [r[2] for r in rows],
            "start_date": [d(r[3]) for r in rows],
            "end_date": [d(r[4]) for r in rows],
        },
        schema={
            "referral_date": pl.Date,
            "decision_date": pl.Date,
            "decision": pl.String,
            "start_date": pl.Date,
            "end_date": pl.Date,
        },
    )


HAND = _cases(
    [
        (0, 14, "granted", 28, 100),  # decision 2 weeks, start 4 weeks
        (7, 21, "refused", None, None),  # refused after 2 weeks
        (10, 38, "granted", 80, None),  # decision 4 weeks, start 10 weeks
        (20, 41, "granted", None, 60),  # decision 3 weeks, gave up waiting
        (370, None, None, None, None),  # second year, undecided
    ]
)


def test_figures_by_hand() -> None:
    start, as_of = D0, D0 + dt.timedelta(days=400)
    f = cf.case_figures(HAND, start, as_of)
    y1, y2 = cf.spans(start, as_of)
    assert (y1.first, y1.last, y2.first, y2.last) == (  # 2020 is a leap year: 366 days
        D0, dt.date(2020, 12, 31), dt.date(2021, 1, 1), as_of,
    )  # fmt: skip
    assert f[("referrals", y1.label)] == 4 and f[("referrals", y2.label)] == 1
    assert f[("decisions", y1.label)] == 4 and f[("starts", y1.label)] == 2
    assert f[("decision_weeks_median", "period")] == pytest.approx(2.5)  # of 2, 2, 4, 3
    assert f[("decision_weeks_p90", "period")] == pytest.approx(np.quantile([2, 2, 4, 3], 0.9))
    assert f[("start_weeks_median", "period")] == pytest.approx(7.0)  # of 4 and 10
    assert f[("waiting_end", "end")] == 0 and f[("in_support_end", "end")] == 1
    days = [D0 + dt.timedelta(days=x) for x in (27, 28, 50, 61, 80, 99, 100)]
    assert cf.in_support_on(HAND, days).tolist() == [0, 1, 1, 1, 2, 2, 1]
    # waiting: granted by the end of the day, not started by then, not gone
    assert [cf.waiting_on(HAND, d) for d in days] == [1, 0, 2, 1, 0, 0, 0]


def test_period_selection_and_inferred_start() -> None:
    # closes: refused on day 21, gave up day 60, ended day 100 -> the period starts on day 21
    assert cf.inferred_start(HAND) == D0 + dt.timedelta(days=21)
    later = cf.select_period(HAND, D0 + dt.timedelta(days=61))
    assert later.height == 3  # the refused (21) and the gave-up (60) cases closed before


@pytest.mark.parametrize(("mu", "sd", "n"), [(0.0, 1.0, 5), (100.0, 15.0, 10), (7.0, 0.5, 30)])
def test_prediction_band_covers_one_more_draw(mu, sd, n) -> None:
    rng = np.random.default_rng(11)
    trials, hits = 4000, 0
    for _ in range(trials):
        x = rng.normal(mu, sd, n + 1)
        _, lo, hi = cf.prediction_band(x[:n].tolist())
        hits += bool(lo <= x[n] <= hi) if mu > 4 * sd else bool(x[n] <= hi)
    if mu > 4 * sd:  # the floor at 0 never binds: two-sided coverage
        assert 0.935 < hits / trials < 0.965
    else:  # the floor binds: only the upper limit can miss (2.5 %)
        assert 0.965 < hits / trials < 0.985


def test_band_floor_and_missing_values() -> None:
    assert cf.prediction_band([0.0, 0.0, 3.0])[1] == 0.0
    assert math.isnan(cf.prediction_band([5.0])[1])
    assert math.isnan(cf.prediction_band([math.nan, 2.0])[2])


@pytest.mark.parametrize("k", [1, 10, 18, 40])
def test_allowed_outside_is_the_binomial_95th_percentile(k) -> None:
    pmf = [math.comb(k, i) * 0.05**i * 0.95 ** (k - i) for i in range(k + 1)]
    m = cf.allowed_outside(k)
    assert sum(pmf[: m + 1]) >= 0.95 and (m == 0 or sum(pmf[:m]) < 0.95)


def test_reader_takes_a_granted_case_closed_before_support_started(tmp_path) -> None:
    """A citizen who gave up waiting: granted, never started, closed. A refused case is closed
    too (case systems write the day the case was closed); neither has a start date."""
    path = tmp_path / "cases.csv"
    head = "case_id;referral_date;decision_date;decision;start_date;end_date\n"
    path.write_text(head + "A;01-02-2024;15-02-2024;granted;;01-06-2024\n", encoding="utf-8")
    row = read_cases(path).frame.row(0, named=True)
    assert (row["start_date"], row["end_date"]) == (None, dt.date(2024, 6, 1))
    path.write_text(head + "B;01-02-2024;15-02-2024;refused;;20-02-2024\n", encoding="utf-8")
    row = read_cases(path).frame.row(0, named=True)
    assert (row["decision"], row["start_date"]) == ("refused", None)
    path.write_text(head + "C;01-02-2024;15-02-2024;granted;01-06-2024;01-05-2024\n", "utf-8")
    with pytest.raises(Exception, match="end_date"):
        read_cases(path)  # support cannot end before it starts


# --------------------------------------------------------------------------- f2-giveup


@pytest.mark.parametrize("per_year", [0.5, 3.0])
def test_every_give_up_of_a_simulated_log_is_in_the_export(per_year) -> None:
    """A run of the frozen engine-test base with a known give-up rate: every citizen whose log
    row says they gave up waiting inside the period (counted from the log itself) is in the
    export as a granted case with no start, closed that day, and no other case looks like one."""
    from pathlib import Path

    from sim.config.loader import load_scenario
    from sim.run.experiment import run_experiment

    base = Path(__file__).parent / "data" / "odder-base.yaml"
    sc = load_scenario(base)
    exits = sc.exits.model_copy(update={"abandon_waiting_per_year": per_year})
    sc = sc.model_copy(update={"exits": exits})
    tl = casegen.timeline(sc, dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    sc = casegen.for_timeline(sc, tl)
    res = run_experiment(
        sc, models=[sc.compare[0]], replications=1, record_events=True, base_dir=base.parent
    )
    log = eventlog.frame([res.events[0]], tl.day0)
    gave_up = log.filter(
        (pl.col("activity") == "exit: gave up waiting")
        & (pl.col("start_day") >= tl.warmup_days)
        & (pl.col("start_day") < tl.horizon_days)
    )
    expected = {
        (f"SYN-P{c:06d}", tl.day0 + dt.timedelta(days=math.floor(d)))
        for c, d in gave_up.select("citizen", "start_day").iter_rows()
    }
    assert len(expected) >= 3  # the check means something
    cases = cases_from_events(log, tl)
    shown = cases.filter(
        (pl.col("decision") == "granted")
        & pl.col("start_date").is_null()
        & pl.col("end_date").is_not_null()
    )
    assert set(shown.select("citizen_id", "end_date").iter_rows()) == expected
