"""The what-if page of ``sim app`` (Streamlit): move a control, watch the answer sharpen.

Streamlit runs this file from the top at every interaction. Everything it computes comes from the
use case ``sim.app.whatif`` and the report's own figure functions (``sim.present.plots``); this
file only lays out controls and results. A what-if's replications run in worker processes and
arrive one by one; the running iterator is kept in the session, so a rerun that does not change
the inputs (a click on "Pin", the language) carries on with it, and one that does closes it (its
workers are terminated) and starts the new one. Every update carries the key of its inputs, so
figures of two what-ifs are never shown together.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from sim.app import whatif
from sim.app.common import default_jobs
from sim.config.loader import ScenarioError
from sim.present import i18n
from sim.present.i18n import t

LANGS = ("da", "en")


def options(argv: Sequence[str]) -> argparse.Namespace:
    """The page's options, given by ``sim app`` after ``--``."""
    parser = argparse.ArgumentParser(prog="sim app page")
    parser.add_argument("--scenario", default="scenarios/odder.yaml")
    parser.add_argument("--lang", default="en", choices=LANGS)
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--jobs", type=int, default=None)
    return parser.parse_args(list(argv))


def label(key: str, lang: str) -> str:
    """A control's label (its name in an override's message)."""
    if key.startswith("mechanism."):
        return t(f"param.{key.split('.', 1)[1]}", lang)
    return t(f"app.control.{key}", lang)


def problems(error: ScenarioError, lang: str) -> None:
    """The loader's located problems, as ``sim validate`` prints them."""
    st.error(t("app.invalid", lang))
    st.code(error.format(), language=None)


# --------------------------------------------------------------------------- controls


def controls(start: whatif.Controls, lang: str) -> whatif.Controls:
    """The sidebar: one control per input, starting at the scenario's values, each with its unit."""
    side = st.sidebar
    side.header(t("app.controls", lang))
    budget = side.number_input(
        label("budget", lang), value=float(start.budget_dkk), step=100_000.0, format="%.0f",
        key="budget",
    )  # fmt: skip
    modes = ("fixed", "share")
    mode = side.radio(
        label("staffing", lang), modes, index=modes.index(start.staffing_mode),
        format_func=lambda m: t(f"app.mode.{m}", lang), key="mode", horizontal=True,
    )  # fmt: skip
    authority, provider, share = start.authority_fte, start.provider_fte, start.authority_share
    if mode == "fixed":
        authority = side.number_input(
            label("authority_fte", lang), value=float(authority), step=0.5, key="authority_fte"
        )
        provider = side.number_input(
            label("provider_fte", lang), value=float(provider), step=0.5, key="provider_fte"
        )
    else:
        share = (
            side.number_input(
                label("authority_share", lang), value=round(100 * share, 2), step=1.0, key="share"
            )
            / 100
        )
    rate = start.rate_per_week
    if rate is not None:
        rate = side.number_input(label("rate", lang), value=float(rate), step=0.1, key="rate")
    reps = side.number_input(
        label("replications", lang), value=int(start.replications), step=1,
        max_value=whatif.MAX_REPLICATIONS, key="reps",
    )  # fmt: skip
    return whatif.Controls(
        budget_dkk=budget,
        staffing_mode=mode,
        authority_fte=authority,
        provider_fte=provider,
        authority_share=share,
        rate_per_week=rate,
        mechanisms=mechanism_controls(start, lang),
        replications=int(reps),
    )


def mechanism_controls(start: whatif.Controls, lang: str) -> dict[tuple[str, str], str]:
    """Per model, which preset each mechanism takes its setting from (a hybrid is a model with
    some mechanisms switched to the other preset's)."""
    out = {}
    models = list(dict.fromkeys(m for m, _ in start.mechanisms))
    for model in models:
        box = st.sidebar.expander(t("app.mechanisms_of", lang, model=i18n.model_name(model, lang)))
        for (m, mechanism), source in start.mechanisms.items():
            if m != model:
                continue
            choices = whatif.sources(source)
            out[(m, mechanism)] = box.selectbox(
                label(f"mechanism.{mechanism}", lang),
                choices,
                index=choices.index(source),
                format_func=lambda s: _source_name(s, lang),
                key=f"mech-{model}-{mechanism}",
            )
    return out


def _source_name(source: str, lang: str) -> str:
    if source == whatif.SCENARIO_SOURCE:
        return t("app.from_scenario", lang)
    return t("app.as_in", lang, model=i18n.model_name(source, lang))


# --------------------------------------------------------------------------- results


class View:
    """The placeholders of the results, filled again at every update."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        st.subheader(t("app.results", lang))
        self.progress = st.empty()
        self.table = st.empty()
        self.warnings = st.empty()
        self.chart = st.empty()

    def show(self, update: whatif.Update, res: Any, seconds: float | None) -> None:
        from sim.present.plots import fig_differences

        p, lang = update.partial, self.lang
        line = t("app.progress", lang, done=p.done, total=p.total)
        if update.cached:
            line += " · " + t("app.cached", lang)
        elif seconds is not None:
            line += " · " + t("app.seconds", lang, s=i18n.fmt_num(seconds, lang, 1))
        self.progress.markdown(f'<p id="progress">{line}</p>', unsafe_allow_html=True)
        self.table.table(whatif.figure_rows(res, lang))
        notes = whatif.warnings_of(res, p.result, lang) if p.complete else []
        self.warnings.markdown("\n".join(f"- ⚠ {n}" for n in notes) if notes else "")
        if res.comparisons and p.done >= 2:
            self.chart.plotly_chart(fig_differences(res, lang), key=f"forest-{p.done}")


def abandon() -> None:
    """Stop the session's run, if any (its workers are terminated now)."""
    running = st.session_state.pop("run", None)
    if running is not None:
        running[1].close()


def run(wi: whatif.WhatIf, lang: str, jobs: int) -> Any:
    """Show the what-if's figures as its replications arrive; the last in-memory tables."""
    state = st.session_state
    view = View(lang)
    running = state.get("run")
    if running is None or running[0] != wi.key:
        abandon()  # the stale run, if any
        state["run"] = (wi.key, whatif.sharpen(wi, jobs), time.perf_counter())
        state.pop("last", None)
    _, updates, began = state["run"]
    last = state.get("last")
    if last is not None and last[0].key == wi.key:
        view.show(last[0], last[1], None)
    try:
        for update in updates:
            res = results_of(update, wi, jobs)
            state["last"] = (update, res)
            view.show(update, res, time.perf_counter() - began)
    except Exception as exc:  # a failed replication: one line, the page stays up
        st.error(f"{type(exc).__name__}: {exc}")
        return None
    last = state.get("last")
    return last[1] if last and last[0].key == wi.key and last[0].partial.complete else None


def results_of(update: whatif.Update, wi: whatif.WhatIf, jobs: int) -> Any:
    result = update.partial.result
    meta = whatif.run_manifest(result, jobs, ["sim", "app"])
    return whatif.in_memory(result, meta, wi.scenario.name)


# --------------------------------------------------------------------------- pin and compare


def pin_and_compare(wi: whatif.WhatIf, res: Any, lang: str) -> None:
    """Pin the current what-if; compare the pinned one with the current (table and forest)."""
    from sim.present.plots import fig_compare_differences

    state = st.session_state
    left, right = st.columns(2)
    if left.button(t("app.pin", lang), key="pin", disabled=res is None):
        state["pinned"] = (wi.key, res)
    pinned = state.get("pinned")
    if pinned is None:
        return
    if right.button(t("app.unpin", lang), key="unpin"):
        state.pop("pinned")
        return
    st.subheader(t("app.compare", lang))
    if res is None:
        st.caption(t("app.compare_wait", lang))
        return
    before = _renamed(pinned[1], t("app.pinned", lang))
    now = _renamed(res, t("app.current", lang))
    st.table(whatif.compare_rows(before, now, lang))
    if now.comparisons:
        st.plotly_chart(fig_compare_differences([before, now], lang), key="compare-forest")


def _renamed(res: Any, name: str) -> Any:
    """The same tables under another folder name (the name the comparison shows)."""
    from dataclasses import replace

    return replace(res, folder=Path(name), _stats={}, _diffs={}, _units={})


# --------------------------------------------------------------------------- downloads


def downloads(wi: whatif.WhatIf, res: Any, lang: str, jobs: int) -> None:
    """The scenario YAML at once; the report, Excel and CSV once the what-if is complete."""
    st.subheader(t("app.downloads", lang))
    st.download_button(
        t("app.download", lang, name="scenario.yaml"), whatif.scenario_yaml(wi),
        file_name=f"{wi.scenario.name}-whatif.yaml", mime="application/x-yaml",
        key="dl-yaml", on_click="ignore",
    )  # fmt: skip
    if res is None:
        return
    state = st.session_state
    if st.button(t("app.prepare", lang), key="prepare"):
        state["prepared"] = (wi.key, lang)
    if state.get("prepared") != (wi.key, lang):
        return
    result = whatif.CACHE.get(wi.key)
    if result is None:
        return
    folder = whatif.FOLDERS.get(wi, result, lang, jobs)
    files = whatif.downloads(folder)
    for name, data, mime in files:
        if name == "scenario.yaml":
            continue
        st.download_button(
            t("app.download", lang, name=name), data, file_name=name, mime=mime,
            key=f"dl-{name}", on_click="ignore",
        )  # fmt: skip


# --------------------------------------------------------------------------- the page


def main(argv: Sequence[str]) -> None:
    """The page, top to bottom (Streamlit runs it again at every interaction)."""
    opts = options(argv)
    st.set_page_config(page_title="sim: what-ifs", layout="wide")
    lang = st.sidebar.radio(
        "Sprog / Language", LANGS, index=LANGS.index(opts.lang), key="lang", horizontal=True
    )
    path = Path(opts.scenario)
    st.title(t("app.title", lang))
    try:
        base = whatif.load(path, opts.sets)
    except ScenarioError as error:
        problems(error, lang)
        return
    st.caption(t("app.scenario", lang, name=base.scenario.name, path=str(path)))
    start = whatif.start_controls(base.scenario)
    now = controls(start, lang)
    sets = [*opts.sets, *whatif.overrides(start, now, lambda k: label(k, lang))]
    try:
        wi = whatif.load(path, sets)
    except ScenarioError as error:
        abandon()
        problems(error, lang)
        return
    jobs = opts.jobs or default_jobs(None)
    res = run(wi, lang, jobs)
    pin_and_compare(wi, res, lang)
    downloads(wi, res, lang, jobs)
