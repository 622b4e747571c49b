"""The warnings of a results folder, computed in one place for every output that shows its figures.

The console and every report kind (run, sweep, explain, optimise, compare) print the list this
module gives, so a reader never sees a figure without the caution that goes with it: too few
replications for the intervals to be trusted, a waiting list still growing at the end (demand
above capacity: the waits depend on the run's length), stage counts not settled after the warm-up,
and budget left unspent by fixed staff. Everything is read from the folder's manifest and tables,
so a report rebuilt later (``sim report``) says the same.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.model.metrics import unspent_to_mention
from sim.present import i18n
from sim.present.i18n import t

FEW_REPLICATIONS = 10
"""Below this many replications a 95 % t-interval is wide and itself uncertain."""


def is_growing(mean: float, end: float) -> bool:
    """Whether a waiting list ends well above its time-average (1.5 times, and 10 citizens more):
    it was still growing when the run stopped."""
    return math.isfinite(mean) and math.isfinite(end) and end > max(1.5 * mean, mean + 10)


def few_reps(n: int, lang: str) -> list[str]:
    """The few-replications warning, if ``n`` is below ``FEW_REPLICATIONS``."""
    return [t("warn.few_reps", lang, n=n)] if 0 < n < FEW_REPLICATIONS else []


def growing(model: str, mean: float, end: float, lang: str) -> list[str]:
    """The growing-waiting-list warning for ``model``, if its list grew to the end."""
    if not is_growing(mean, end):
        return []
    return [
        t(
            "warn.growing",
            lang,
            model=i18n.model_phrase(model, lang),
            mean=i18n.fmt_num(mean, lang, 0),
            end=i18n.fmt_num(end, lang, 0),
        )
    ]


def _manifest(folder: Path) -> dict[str, Any]:
    return dict(json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8")))


def _replications(meta: dict[str, Any]) -> int:
    """The fewest replications behind the folder's intervals (a sweep lists one per file)."""
    values = [meta.get("replications"), meta.get("confirm_replications")]
    flat = [v for x in values for v in (x if isinstance(x, list) else [x]) if v is not None]
    return min((int(v) for v in flat), default=0)


def _staff_unspent(meta: dict[str, Any], lang: str) -> list[str]:
    """Unspent budget of the manifest's staff (explain and optimise folders)."""
    from sim.present.report import unspent_notes

    staff = {
        m: (
            float(s.get("authority_fte", math.nan)),
            float(s.get("provider_fte", math.nan)),
            float(s.get("staff_cost_dkk_per_year", math.nan)),
        )
        for m, s in (meta.get("staff") or {}).items()
    }
    budget = float(meta.get("budget_dkk_per_year") or math.nan)
    return unspent_notes(budget, staff, lang) if math.isfinite(budget) else []


def sweep_warnings(folder: Path, meta: dict[str, Any], lang: str) -> list[str]:
    """Few replications; per model, the points whose waiting list still grew; the points where
    fixed staff leave part of the budget unspent."""
    import polars as pl

    out = few_reps(_replications(meta), lang)
    summary = pl.read_csv(Path(folder) / "summary.csv", infer_schema_length=None)
    rows = summary.iter_rows(named=True)
    means = {(int(r["point"]), r["model"], r["metric"]): r["mean"] for r in rows}
    points = sorted({p for p, _, _ in means})
    models = list(meta.get("models") or dict.fromkeys(m for _, m, _ in means))

    def get(p: int, m: str, metric: str) -> float:
        v = means.get((p, m, metric))
        return math.nan if v is None else float(v)

    for m in models:
        grew = [
            p
            for p in points
            if is_growing(
                get(p, m, "support_queue_mean_citizens"), get(p, m, "support_queue_end_citizens")
            )
        ]
        if grew:
            out.append(
                t(
                    "caution.sweep_growing",
                    lang,
                    model=i18n.model_phrase(m, lang),
                    points=", ".join(map(str, grew)),
                    n=len(grew),
                    total=len(points),
                )
            )
    left: dict[int, float] = {}
    for p in points:
        costs = {m: get(p, m, "staff_cost_dkk_per_year") for m in models}
        budget = next(
            (c + get(p, m, "unspent_dkk_per_year") for m, c in costs.items() if math.isfinite(c)),
            math.nan,
        )
        amounts = unspent_to_mention(budget, costs) if math.isfinite(budget) else {}
        if amounts:
            left[p] = max(amounts.values())
    if left:
        out.append(
            t(
                "caution.sweep_unspent",
                lang,
                points=", ".join(map(str, left)),
                n=len(left),
                total=len(points),
                unspent=i18n.fmt_dkk(max(left.values()), lang),
            )
        )
    return out


# l1-danish: waiting lists of an explain folder (issue 14 point 1)

WAITING_LISTS = "waiting_lists.json"
"""An explain folder's waiting lists: per simulated model (the two compared and the hybrids
between them) which mechanisms it switched and the mean and end-of-run length of its waiting list
for support (citizens, mean over replications). The contributions' tables do not hold them."""


def _mean(values: Sequence[float]) -> float:
    finite = [float(v) for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def write_waiting_lists(folder: Path, res: Any) -> None:
    """``WAITING_LISTS`` for the explain result ``res`` (nothing when it kept no replications)."""
    exp = getattr(res, "experiment", None)
    if exp is None:
        return
    rows = [
        {
            "model": name,
            "switched": list(switched),
            "mean": _mean(exp.values(name, "support_queue_mean_citizens")),
            "end": _mean(exp.values(name, "support_queue_end_citizens")),
        }
        for name, switched in res.hybrids.items()
    ]
    text = json.dumps({"models": rows}, indent=2, sort_keys=True) + "\n"
    (Path(folder) / WAITING_LISTS).write_text(text, encoding="utf-8")


def explain_growing(folder: Path, meta: dict[str, Any], lang: str) -> list[str]:
    """The growing-list warning of the two models an explain folder compares (the 'from' model
    switches nothing, the 'to' model everything), then how many hybrids' lists grew as well."""
    path = Path(folder) / WAITING_LISTS
    if not path.is_file():  # a folder from before the file existed
        return []
    rows = list(json.loads(path.read_text(encoding="utf-8")).get("models") or [])
    if not rows:
        return []
    most = max(len(r["switched"]) for r in rows)
    ends = {
        "from": [r for r in rows if not r["switched"]],
        "to": [r for r in rows if len(r["switched"]) == most],
    }
    out: list[str] = []
    for side in ("from", "to"):
        for r in ends[side][:1]:
            out += growing(
                str(meta.get(side) or r["model"]), float(r["mean"]), float(r["end"]), lang
            )
    inner = [r for r in rows if 0 < len(r["switched"]) < most]
    grew = [r for r in inner if is_growing(float(r["mean"]), float(r["end"]))]
    if grew:
        out.append(t("explain_warn.hybrids_growing", lang, n=len(grew), total=len(inner)))
    return out


def folder_warnings(folder: Path, lang: str = "en") -> list[str]:
    """Every warning of the results folder ``folder`` (any kind), in ``lang``."""
    folder = Path(folder)
    meta = _manifest(folder)
    kind = str(meta.get("kind") or "run")
    if kind == "run":
        from sim.present.report import cautions
        from sim.store.reader import load_results

        return cautions(load_results(folder), lang)
    if kind == "sweep":
        return sweep_warnings(folder, meta, lang)
    lists = explain_growing(folder, meta, lang) if kind == "explain" else []
    return lists + few_reps(_replications(meta), lang) + _staff_unspent(meta, lang)


def print_warnings(warnings: Sequence[str], console: Any, lang: str) -> None:
    """Each warning on the terminal after a bold "Warning:" (rich markup in it escaped)."""
    from rich.text import Text

    for w in warnings:
        console.print(Text.assemble((t("console.warning", lang) + " ", "bold yellow"), w))


def warnings_html(warnings: Sequence[str], lang: str) -> str:
    """The warnings as the report's paragraphs (``class="warn"``)."""
    import html

    label = html.escape(t("report.warnings", lang))
    return "\n".join(f'<p class="warn"><b>{label}:</b> {html.escape(w)}</p>' for w in warnings)
