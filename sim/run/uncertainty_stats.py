"""How sure is the answer? Statistics of an uncertainty run (issue 12), as pure functions.

Note for u1-design (the design that ``--method sobol`` needs): draw the sample sets with
``SALib.sample.sobol.sample(problem, N, calc_second_order=False, scramble=True, seed=seed)`` where
``problem = {"num_vars": k, "names": paths, "bounds": [[0, 1]] * k}`` and ``N`` a power of two
(at least ``MIN_SOBOL_N``); map each column through its ``Range.ppf`` and keep the rows in SALib's
order as the ``sample`` sets (ascending ``set_id``): ``N * (k + 2)`` sets. ``sensitivity(...,
method="sobol")`` checks that count and falls back to PRCC (and says so) when it does not fit.
``--method lhs`` (``scipy.stats.qmc.LatinHypercube``) gets PRCC.

Every function takes arrays of *paired differences* (a model's metric minus the baseline's, per
replication, on the same citizens) and returns plain dataclasses; any randomness (bootstrap) comes
from the generator passed in, so the same inputs give the same numbers.

Two sources of uncertainty are kept apart throughout:

- **parameter uncertainty**: what we do not know about the inputs (the sets of an uncertainty run);
- **Monte Carlo noise**: the finite number of replications within a set.

A run's usual 95 % CI covers only the second. The functions here say how much of the spread comes
from each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.model.metrics import Interval, t_interval

LEVEL = 0.95
"""Confidence level of every interval here."""
MIN_SOBOL_N = 32
"""Smallest Saltelli/Sobol base sample ``N`` whose Sobol indices are worth reporting; below it the
bootstrap intervals of the indices are wider than the indices themselves, so PRCC runs instead."""
FEW_SETS = 30
"""Fewer parameter sets than this: the report warns that the probability is coarse."""
FEW_REPS = 5
"""Fewer replications per set than this: the report warns that each set's mean is noisy."""


def _means(diffs_by_set: np.ndarray) -> np.ndarray:
    """Per-set mean paired difference over replications (NaN replications left out)."""
    d = np.asarray(diffs_by_set, dtype=float)
    if d.ndim != 2 or d.shape[0] == 0 or d.shape[1] == 0:
        raise ValueError("diffs_by_set must be a non-empty 2-D array (sets x replications)")
    return np.nanmean(d, axis=1)


# --------------------------------------------------------------------------- probability


@dataclass(frozen=True)
class Probability:
    """P(mean paired difference of a parameter set > threshold) over the parameter sets.

    ``p`` is the share of sets above the threshold (exactly 0 or 1 when every set falls on one
    side); ``low``/``high`` its 95 % interval: Monte Carlo noise within sets (bootstrap over
    replications) and the finite number of sets (Clopper-Pearson) together.
    """

    threshold: float
    p: float
    low: float
    high: float
    n_sets: int
    n_reps: int


def _clopper_pearson(k: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact binomial interval for k successes in n trials (k may be fractional: rounded)."""
    from scipy.stats import beta

    k = round(k)
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def probability_better(
    diffs_by_set: np.ndarray,
    threshold: float = 0.0,
    rng: np.random.Generator | None = None,
    n_boot: int = 2000,
) -> Probability:
    """How likely a model helps more citizens than the baseline by more than ``threshold``.

    ``diffs_by_set`` is sets x replications. Why this interval: a set's mean carries Monte Carlo
    noise, so whether it lies above the threshold is itself uncertain; resampling the replications
    (the same ones in every set: on common random numbers replication r is the same citizens in
    every set, so their noise moves all sets together) gives the spread of the count above it.
    The sets are a finite sample of what we do not know, so the Clopper-Pearson interval of the
    lower count's low end and of the upper count's high end is the interval. When every
    replication of every set lies on one side the count cannot move: exactly 0 or 1.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    d = np.asarray(diffs_by_set, dtype=float)
    means = _means(d)
    n, r = d.shape
    k = int(np.sum(means > threshold))
    counts = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, r, size=r)  # the same replications (citizens) in every set
        counts[b] = np.sum(np.nanmean(d[:, idx], axis=1) > threshold)
    a = (1 - LEVEL) / 2
    k_lo, k_hi = np.quantile(counts, [a, 1 - a])
    lo = _clopper_pearson(min(k_lo, k), n)[0]
    hi = _clopper_pearson(max(k_hi, k), n)[1]
    return Probability(threshold, k / n, lo, hi, n, r)


# --------------------------------------------------------------------------- distribution


@dataclass(frozen=True)
class Distribution:
    """The paired difference across the parameter sets.

    ``mean`` and its CI (``mean_low``/``mean_high``: bootstrap over sets and, independently, over
    replications) say where the average lies; ``low``/``high`` is the 95 % percentile interval of
    the per-set means: the range the difference takes for 95 % of what we do not know (parameter
    uncertainty plus each set's own Monte Carlo noise). ``var_total`` (variance of the per-set
    means) is split into ``var_mc`` and ``var_param`` (the rest, not below zero). On common random
    numbers replication r is the same citizens in every set, so the noise they share moves every
    set alike and adds nothing to the spread across sets; ``var_mc`` is the set-specific part:
    the residual variance of the additive sets x replications model, divided by the replications.
    """

    mean: float
    mean_low: float
    mean_high: float
    low: float
    high: float
    var_total: float
    var_param: float
    var_mc: float
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    n_sets: int
    n_reps: int
    set_means: tuple[float, ...] = field(repr=False, default=())

    @property
    def param_share(self) -> float:
        """Share of the variance of the per-set means that comes from the parameters (0-1)."""
        return self.var_param / self.var_total if self.var_total > 0 else math.nan


def difference_distribution(
    diffs_by_set: np.ndarray,
    rng: np.random.Generator | None = None,
    bins: int | None = None,
    n_boot: int = 2000,
) -> Distribution:
    """The distribution of the per-set mean paired difference (see ``Distribution``)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    d = np.asarray(diffs_by_set, dtype=float)
    means = _means(d)
    n, r = d.shape
    a = (1 - LEVEL) / 2
    boot = np.empty(n_boot)
    for b in range(n_boot):
        rows, cols = rng.integers(0, n, size=n), rng.integers(0, r, size=r)
        boot[b] = np.nanmean(d[np.ix_(rows, cols)])
    m_lo, m_hi = np.quantile(boot, [a, 1 - a]) if n * r > 1 else (math.nan, math.nan)
    lo, hi = np.quantile(means, [a, 1 - a])
    var_total = float(means.var(ddof=1)) if n > 1 else 0.0
    var_mc = _set_noise(d) / r
    var_param = max(var_total - var_mc, 0.0)
    counts, edges = np.histogram(means, bins=bins or max(5, min(30, int(math.sqrt(n)) + 1)))
    return Distribution(
        float(means.mean()), float(m_lo), float(m_hi), float(lo), float(hi),
        var_total, var_param, var_mc,
        tuple(float(e) for e in edges), tuple(int(c) for c in counts), n, r,
        tuple(float(m) for m in means),
    )  # fmt: skip


def _set_noise(d: np.ndarray) -> float:
    """Variance of the set-specific Monte Carlo noise: the residual mean square of the additive
    model d[i, r] = set_i + replication_r (two-way ANOVA without interaction)."""
    n, r = d.shape
    if n < 2 or r < 2:
        return float(np.nanmean(np.nanvar(d, axis=1, ddof=1))) if r > 1 else 0.0
    resid = d - np.nanmean(d, axis=1, keepdims=True) - np.nanmean(d, axis=0, keepdims=True)
    resid += np.nanmean(d)
    return float(np.nansum(resid**2) / ((n - 1) * (r - 1)))


# --------------------------------------------------------------------------- tornado


@dataclass(frozen=True)
class Bar:
    """One input of the tornado: the change in the mean paired difference when the input moves
    from its base to its low and to its high value (the others at base), same replications."""

    input: str
    low: Interval
    high: Interval

    @property
    def swing(self) -> float:
        """The length of the bar: the larger of the two changes in absolute value."""
        return max(abs(self.low.mean), abs(self.high.mean))


def tornado(
    base: np.ndarray, low: Mapping[str, np.ndarray], high: Mapping[str, np.ndarray]
) -> list[Bar]:
    """Bars ordered by effect, largest first (ties in the inputs' order).

    ``base`` is the paired difference per replication at the base set; ``low[x]``/``high[x]`` the
    same at input ``x``'s low/high value, on the same replications (the same citizens). Each change
    is the mean over replications of (set - base) with its paired 95 % t-interval, so the Monte
    Carlo noise shared by the two sets cancels. An input that changes nothing gives identical
    replications and so a change of exactly 0 with no spread.
    """
    b = np.asarray(base, dtype=float)
    bars = [
        Bar(
            x,
            t_interval(np.asarray(low[x], dtype=float) - b),
            t_interval(np.asarray(high[x], dtype=float) - b),
        )
        for x in low
    ]
    order = sorted(range(len(bars)), key=lambda i: (-bars[i].swing, i))
    return [bars[i] for i in order]


# --------------------------------------------------------------------------- sensitivity


@dataclass(frozen=True)
class Index:
    """One sensitivity index of one input with its 95 % interval (``name``: S1, ST or PRCC)."""

    input: str
    name: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Sensitivity:
    """Global sensitivity: which method ran, on how many parameter sets, and why."""

    method: str
    n: int
    indices: list[Index]
    note: str = ""


def _residuals(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """What of ``y`` a least-squares line in the columns of ``x`` (plus intercept) leaves."""
    a = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    return y - a @ coef


def prcc(design: np.ndarray, outputs: np.ndarray, inputs: Sequence[str]) -> list[Index]:
    """Partial rank correlation coefficients (SALib has none; done here with scipy's ranks).

    Inputs and output are replaced by their ranks; for each input, both its ranks and the output's
    are regressed on the ranks of all other inputs, and the PRCC is the Pearson correlation of the
    two residuals: the monotone effect of that input with the others held fixed. The interval is
    Fisher's z with ``n - 3 - (k - 1)`` degrees of freedom. NaN when undefined (a constant input or
    output).
    """
    from scipy.stats import norm, rankdata

    x = np.column_stack([rankdata(c) for c in np.asarray(design, dtype=float).T])
    y = rankdata(np.asarray(outputs, dtype=float))
    n, k = x.shape
    z = norm.ppf(0.5 + LEVEL / 2)
    out = []
    for j, name in enumerate(inputs):
        others = np.delete(x, j, axis=1)
        rx, ry = _residuals(x[:, j], others), _residuals(y, others)
        sx, sy = float(np.sqrt(rx @ rx)), float(np.sqrt(ry @ ry))
        scale = max(float(np.abs(y).max()), 1.0) * 1e-9 * n
        if sx <= scale or sy <= scale:
            out.append(Index(name, "PRCC", math.nan, math.nan, math.nan))
            continue
        r = float(np.clip(rx @ ry / (sx * sy), -1.0, 1.0))
        dof = n - 3 - (k - 1)
        if dof < 1 or abs(r) == 1.0:
            out.append(
                Index(name, "PRCC", r, math.nan if dof < 1 else r, math.nan if dof < 1 else r)
            )
            continue
        h = z / math.sqrt(dof)
        out.append(
            Index(name, "PRCC", r, math.tanh(math.atanh(r) - h), math.tanh(math.atanh(r) + h))
        )
    return out


def sobol_base_n(rows: int, k: int) -> int | None:
    """The Saltelli base sample N of a design with ``rows`` sets and ``k`` inputs, None if the
    count does not fit ``N * (k + 2)`` (first-order and total indices, no second order)."""
    return rows // (k + 2) if rows % (k + 2) == 0 and rows > 0 else None


def _sobol(
    outputs: np.ndarray, inputs: Sequence[str], n_base: int, rng: np.random.Generator
) -> list[Index]:
    """First-order and total Sobol indices (SALib, Jansen/Saltelli estimators, bootstrap CI)."""
    from SALib.analyze import sobol

    problem = {"num_vars": len(inputs), "names": list(inputs), "bounds": [[0, 1]] * len(inputs)}
    seed = int(rng.integers(0, 2**31 - 1))
    res = sobol.analyze(
        problem, np.asarray(outputs, dtype=float), calc_second_order=False, seed=seed
    )
    out = []
    for j, name in enumerate(inputs):
        for key in ("S1", "ST"):
            v, c = float(res[key][j]), float(res[f"{key}_conf"][j])
            out.append(Index(name, key, v, v - c, v + c))
    return out


def sensitivity(
    design: np.ndarray,
    outputs: np.ndarray,
    inputs: Sequence[str],
    method: str = "lhs",
    rng: np.random.Generator | None = None,
) -> Sensitivity:
    """Global sensitivity of the per-set mean difference to the inputs.

    ``design`` is sets x inputs (the values used, in the sample sets' order), ``outputs`` each
    set's mean paired difference. With ``method="sobol"`` and a Saltelli design of at least
    ``MIN_SOBOL_N`` base points (see the module's note) the result is Sobol's first-order (S1) and
    total (ST) indices: ST - S1 is what the input does through interactions. Otherwise PRCC, which
    needs no special design and is meaningful from a few dozen sets (monotone effects only).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    x = np.asarray(design, dtype=float)
    y = np.asarray(outputs, dtype=float)
    rows, k = x.shape
    note = ""
    if method == "sobol":
        n_base = sobol_base_n(rows, k)
        if n_base is not None and n_base >= MIN_SOBOL_N:
            return Sensitivity("sobol", rows, _sobol(y, inputs, n_base, rng))
        note = "sobol_too_small"
    if rows < k + 3:  # the other inputs' ranks would explain everything: PRCC is undefined
        note = "prcc_too_few"
    return Sensitivity("prcc", rows, prcc(x, y, inputs), note)


# --------------------------------------------------------------------------- threshold


@dataclass(frozen=True)
class Point:
    """One evaluation of the threshold search: the input's value and the paired difference."""

    x: float
    diff: Interval


@dataclass(frozen=True)
class Threshold:
    """Where the mean paired difference crosses zero along one input.

    ``status``: ``found`` (``value`` with its 95 % interval ``low``/``high``); ``never`` (the
    difference keeps one sign over the whole range, with confidence at both ends; ``sign`` says
    which); ``unclear`` (the ends have the same sign but at least one is within noise of zero).
    """

    input: str
    status: str
    value: float
    low: float
    high: float
    sign: int
    points: list[Point]


def _sure(iv: Interval) -> int:
    """+1 / -1 when the interval lies wholly above / below zero, else 0."""
    if iv.low > 0:
        return 1
    if iv.high < 0:
        return -1
    return 0


def _root(xs: np.ndarray, ys: np.ndarray) -> float:
    """Zero of the least-squares line through (xs, ys); NaN for a flat line."""
    slope, icpt = np.polyfit(xs, ys, 1)
    return -icpt / slope if slope != 0 else math.nan


def _next_x(a: Point, b: Point) -> float:
    """The secant point of the bracket, kept inside its middle 80 % so the bracket shrinks."""
    fa, fb = a.diff.mean, b.diff.mean
    x = a.x - fa * (b.x - a.x) / (fb - fa) if fb != fa else (a.x + b.x) / 2
    w = b.x - a.x
    return float(min(max(x, a.x + 0.1 * w), b.x - 0.1 * w))


def _root_interval(
    xs: list[float], diffs: list[np.ndarray], lo: float, hi: float, rng: np.random.Generator
) -> tuple[float, float, float]:
    """Root of the line through the points' means, with a bootstrap over the replications
    (the same replication indices at every point: they share the citizens)."""
    d = np.vstack(diffs)
    x = np.asarray(xs)
    root = _root(x, np.nanmean(d, axis=1))
    r = d.shape[1]
    boots = []
    for _ in range(1000):
        idx = rng.integers(0, r, size=r)
        boots.append(_root(x, np.nanmean(d[:, idx], axis=1)))
    b = np.clip(np.asarray(boots, dtype=float), lo, hi)
    b = b[np.isfinite(b)]
    a = (1 - LEVEL) / 2
    q_lo, q_hi = np.quantile(b, [a, 1 - a]) if b.size else (lo, hi)
    return float(np.clip(root, lo, hi)), float(q_lo), float(q_hi)


def find_threshold(
    evaluate: Callable[[float], np.ndarray],
    low: float,
    high: float,
    base: float,
    *,
    name: str = "",
    tol: float | None = None,
    max_evals: int = 10,
    rng: np.random.Generator | None = None,
) -> Threshold:
    """The value of one input at which the mean paired difference crosses zero.

    ``evaluate(x)`` returns the paired differences over the replications with the input at ``x``
    (the same replications, i.e. citizens, at every ``x``). The search evaluates both ends; if their
    means have opposite signs it narrows the bracket by secant steps (regula falsi kept inside the
    bracket) until the difference at the new point is within noise of zero (its CI straddles
    zero), the bracket is narrower than ``tol`` (default 1 % of the range) or ``max_evals`` ran.
    The value is the zero of a line through the points of the final bracket; its interval comes
    from resampling the replications. ``base`` is the scenario's value (kept for the report; it
    is not evaluated again).
    """
    tol = tol if tol is not None else 0.01 * (high - low)
    seen: dict[float, np.ndarray] = {}

    def point(x: float) -> Point:
        seen[x] = np.asarray(evaluate(x), dtype=float)
        return Point(x, t_interval(seen[x]))

    a, b = point(float(low)), point(float(high))
    if a.diff.mean * b.diff.mean < 0:
        while len(seen) < max_evals and b.x - a.x > tol:
            c = point(_next_x(a, b))
            if _sure(c.diff) == 0 or c.diff.mean == 0:
                break
            a, b = (c, b) if np.sign(c.diff.mean) == np.sign(a.diff.mean) else (a, c)
    return threshold_of(name, seen, low, high, rng)


def threshold_of(
    name: str,
    evaluated: Mapping[float, np.ndarray],
    low: float,
    high: float,
    rng: np.random.Generator | None = None,
) -> Threshold:
    """The threshold from the points a search evaluated ({x: paired differences}).

    Pure in the points, so a report rebuilt from a results folder (the points are its
    ``threshold``/``low``/``high`` sets) gives the same answer as the search did. The crossing is
    the first pair of neighbouring points whose means have opposite signs; the line runs through
    that pair and any neighbour within noise of zero.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    xs = sorted(evaluated)
    pts = [Point(x, t_interval(evaluated[x])) for x in xs]
    means = [p.diff.mean for p in pts]
    zero = [p.x for p in pts if p.diff.mean == 0]
    cross = [i for i in range(len(pts) - 1) if means[i] * means[i + 1] < 0]
    if not cross:
        if zero and len(zero) < len(pts):
            return Threshold(name, "found", zero[0], zero[0], zero[0], 0, pts)
        first, last = pts[0].diff, pts[-1].diff
        sure = _sure(first) == _sure(last) != 0
        sign = int(np.sign(first.mean))
        return Threshold(name, "never" if sure else "unclear", *[math.nan] * 3, sign, pts)
    i = cross[0]
    used = [j for j in (i - 1, i, i + 1, i + 2) if 0 <= j < len(pts)]
    used = [j for j in used if j in (i, i + 1) or _sure(pts[j].diff) == 0]
    value, q_lo, q_hi = _root_interval(
        [xs[j] for j in used], [evaluated[xs[j]] for j in used], float(low), float(high), rng
    )
    return Threshold(name, "found", value, q_lo, q_hi, 0, pts)
