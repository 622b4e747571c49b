"""The statistics of an uncertainty run on synthetic data whose answer is known.

The synthetic "simulator": the paired difference of set i, replication r is
``slope * (x1 - x0) + noise_r + eps_ir`` where ``noise_r`` is shared by every set (common random
numbers: the same citizens) and ``eps_ir`` is small set-specific noise. Only x1 matters; x2 and x3
do nothing. Every expected value below comes from that formula, not from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm, qmc

from sim.run import uncertainty_stats as us

INPUTS = ["x1", "x2", "x3"]


def synthetic(xs: np.ndarray, reps: int, slope: float, x0: float, seed: int, eps: float = 0.3):
    """Sets x replications of paired differences, linear in column 0 only."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, 1.0, size=reps)
    own = rng.normal(0, eps, size=(len(xs), reps))
    return slope * (xs[:, [0]] - x0) + shared[None, :] + own


# --------------------------------------------------------------------------- probability


@pytest.mark.parametrize("shift", [3.0, -3.0])
def test_probability_is_exactly_one_or_zero_when_the_sign_is_certain(shift):
    rng = np.random.default_rng(1)
    d = shift + rng.uniform(-0.5, 0.5, size=(20, 8))  # every replication on one side of 0
    p = us.probability_better(d, 0.0, np.random.default_rng(2), n_boot=300)
    assert p.p == (1.0 if shift > 0 else 0.0)
    # with 20 sets all on one side, the exact binomial bound of the other end: 0.025 ** (1/20)
    edge = 0.025 ** (1 / 20)
    if shift > 0:
        assert p.high == 1.0 and p.low == pytest.approx(edge, rel=1e-9)
    else:
        assert p.low == 0.0 and p.high == pytest.approx(1 - edge, rel=1e-9)
    assert (p.n_sets, p.n_reps) == (20, 8)


@pytest.mark.parametrize("threshold", [0.0, 1.0, 2.5])
def test_probability_counts_set_means_above_the_threshold(threshold):
    # set means are exactly 0.1, 0.2, ..., 4.0 (replications symmetric around them)
    means = np.arange(1, 41) / 10
    d = means[:, None] + np.array([-0.01, 0.01])[None, :]
    p = us.probability_better(d, threshold, np.random.default_rng(0), n_boot=300)
    expected = np.sum(means > threshold) / 40
    assert p.p == pytest.approx(expected)
    assert p.low <= p.p <= p.high
    assert p.low >= 0 and p.high <= 1


def test_probability_interval_covers_the_truth_at_several_values():
    """Set means ~ N(mu, 1): P(mean > 0) = Phi(mu); the interval covers it in most samples."""
    for mu in (-0.5, 0.0, 0.8):
        hits = 0
        for seed in range(20):
            rng = np.random.default_rng(seed)
            d = rng.normal(mu, 1, size=(60, 1)) + rng.normal(0, 0.2, size=(60, 6))
            p = us.probability_better(d, 0.0, rng, n_boot=200)
            truth = norm.cdf(mu / math.sqrt(1 + 0.04 / 6))
            hits += p.low <= truth <= p.high
        assert hits >= 17, (mu, hits)


# --------------------------------------------------------------------------- distribution


@pytest.mark.parametrize("sd_param,sd_mc", [(2.0, 0.5), (0.5, 2.0), (1.0, 1.0)])
@pytest.mark.parametrize("sd_shared", [0.0, 5.0])
def test_distribution_splits_parameter_and_monte_carlo_variance(sd_param, sd_mc, sd_shared):
    """Noise shared by every set (the same citizens, sd_shared) moves all sets alike: it adds
    nothing to the spread across sets, so the split ignores it."""
    rng = np.random.default_rng(11)
    n, r = 400, 10
    shared = rng.normal(0, sd_shared, size=(1, r))
    d = rng.normal(1.0, sd_param, size=(n, 1)) + rng.normal(0, sd_mc, size=(n, r)) + shared
    dist = us.difference_distribution(d, np.random.default_rng(0), n_boot=300)
    assert dist.var_mc == pytest.approx(sd_mc**2 / r, rel=0.15)
    assert dist.var_param == pytest.approx(sd_param**2, rel=0.2)
    share = sd_param**2 / (sd_param**2 + sd_mc**2 / r)
    assert dist.param_share == pytest.approx(share, abs=0.06)
    means = d.mean(axis=1)
    assert dist.mean == pytest.approx(means.mean())
    assert (dist.low, dist.high) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])))
    # the 95 % range over what we do not know is roughly mean -/+ 1.96 sd of a set's mean
    sd_set = math.sqrt(sd_param**2 + sd_mc**2 / r)
    assert dist.high - dist.low == pytest.approx(2 * 1.96 * sd_set, rel=0.2)
    assert dist.mean_low < 1.0 < dist.mean_high  # the shared noise widens the mean's CI
    assert sum(dist.counts) == n and len(dist.edges) == len(dist.counts) + 1


# --------------------------------------------------------------------------- tornado


def test_tornado_orders_by_effect_and_a_useless_input_gets_exactly_zero():
    reps = 12
    base_x = np.array([[5.0, 1.0, 1.0]])
    base = synthetic(base_x, reps, slope=2.0, x0=4.0, seed=3, eps=0.0)[0]
    low, high = {}, {}
    # each input moved on its own; x2 and x3 do nothing, and the same citizens give the same numbers
    for j, name in enumerate(INPUTS):
        for _side, value, out in (("low", 3.0, low), ("high", 7.0, high)):
            x = base_x.copy()
            x[0, j] = value
            out[name] = synthetic(x, reps, slope=2.0, x0=4.0, seed=3, eps=0.0)[0]
    bars = us.tornado(base, low, high)
    assert [b.input for b in bars] == ["x1", "x2", "x3"]
    x1 = bars[0]
    assert x1.low.mean == pytest.approx(2.0 * (3.0 - 5.0))
    assert x1.high.mean == pytest.approx(2.0 * (7.0 - 5.0))
    for bar in bars[1:]:
        for iv in (bar.low, bar.high):
            assert iv.mean == 0.0 and iv.low == 0.0 and iv.high == 0.0


def _noisy_tornado(seed: int, effects: dict[str, tuple[float, float]], reps: int = 20):
    rng = np.random.default_rng(seed)
    base = 10 + rng.normal(0, 3, size=reps)  # noise shared by every set (same citizens)
    low = {k: base + lo + rng.normal(0, 0.2, reps) for k, (lo, _) in effects.items()}
    high = {k: base + hi + rng.normal(0, 0.2, reps) for k, (_, hi) in effects.items()}
    return us.tornado(base, low, high)


def test_tornado_ranks_inputs_by_swing_with_noise_and_paired_ci():
    effects = {"a": (-1.0, 0.5), "b": (4.0, -6.0), "c": (0.2, 2.0)}
    covered = total = 0
    for seed in range(40):
        bars = _noisy_tornado(seed, effects)
        assert [b.input for b in bars] == ["b", "c", "a"]
        for bar in bars:
            lo, hi = effects[bar.input]
            covered += (bar.low.low <= lo <= bar.low.high) + (bar.high.low <= hi <= bar.high.high)
            total += 2
            # pairing removes the shared noise (sd 3): far narrower than 2 * 1.96 * 3 / sqrt(20)
            assert bar.high.high - bar.high.low < 0.5
    assert covered / total >= 0.9


# --------------------------------------------------------------------------- sensitivity


@pytest.mark.parametrize("slope", [1.0, -3.0])
def test_prcc_finds_the_one_input_that_matters(slope):
    n = 64
    x = qmc.LatinHypercube(d=3, seed=1).random(n) * 10
    y = synthetic(x, 8, slope=slope, x0=5.0, seed=2).mean(axis=1)
    res = us.sensitivity(x, y, INPUTS, method="lhs")
    assert res.method == "prcc" and res.n == n
    by = {i.input: i for i in res.indices}
    assert math.copysign(1, by["x1"].value) == math.copysign(1, slope)
    assert abs(by["x1"].value) > 0.9
    for name in ("x2", "x3"):
        assert abs(by[name].value) < 0.3
        assert by[name].low < 0 < by[name].high


def test_prcc_equals_a_hand_computed_partial_correlation():
    """Two inputs: PRCC is the partial correlation of the ranks, by the textbook formula
    r_xy.z = (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2))."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(9)
    x = rng.uniform(size=(50, 2))
    y = np.exp(x[:, 0]) + 0.5 * x[:, 1] + rng.normal(0, 0.3, 50)
    rx, rz, ry = rankdata(x[:, 0]), rankdata(x[:, 1]), rankdata(y)
    c = np.corrcoef([rx, ry, rz])
    r_xy, r_xz, r_yz = c[0, 1], c[0, 2], c[1, 2]
    expected = (r_xy - r_xz * r_yz) / math.sqrt((1 - r_xz**2) * (1 - r_yz**2))
    got = us.prcc(x, y, ["a", "b"])[0].value
    assert got == pytest.approx(expected, abs=1e-12)


def test_sobol_on_a_saltelli_design_gives_zero_first_order_for_irrelevant_inputs():
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 3, "names": INPUTS, "bounds": [[0, 1]] * 3}
    u = sobol_sample.sample(problem, 256, calc_second_order=False, scramble=True, seed=4)
    x = u * 10
    y = synthetic(x, 4, slope=2.0, x0=5.0, seed=1, eps=0.1).mean(axis=1)
    res = us.sensitivity(x, y, INPUTS, method="sobol", rng=np.random.default_rng(0))
    assert res.method == "sobol" and res.n == 256 * 5
    s1 = {i.input: i.value for i in res.indices if i.name == "S1"}
    st = {i.input: i.value for i in res.indices if i.name == "ST"}
    assert s1["x1"] == pytest.approx(1.0, abs=0.05) and st["x1"] == pytest.approx(1.0, abs=0.05)
    for name in ("x2", "x3"):
        assert abs(s1[name]) < 0.03 and abs(st[name]) < 0.03


def test_sobol_falls_back_to_prcc_when_the_design_is_too_small():
    x = np.random.default_rng(0).uniform(size=(50, 3))  # 50 is 10 * (3 + 2) but 10 < MIN_SOBOL_N
    y = x[:, 0]
    res = us.sensitivity(x, y, INPUTS, method="sobol")
    assert res.method == "prcc" and res.note == "sobol_too_small"


# --------------------------------------------------------------------------- threshold


def make_evaluate(slope: float, x0: float, seed: int, reps: int = 10, eps: float = 0.3):
    rng = np.random.default_rng(seed)
    shared = rng.normal(0, 2.0, size=reps)
    calls = []

    def evaluate(x: float) -> np.ndarray:
        calls.append(x)
        own = np.random.default_rng([seed, int(x * 1e6)]).normal(0, eps, size=reps)
        return slope * (x - x0) + shared + own

    return evaluate, calls


@pytest.mark.parametrize("slope,x0", [(1.0, 4.2), (-2.5, 7.7), (0.6, 3.0)])
def test_threshold_found_within_tolerance_and_its_interval_covers_the_truth(slope, x0):
    hits = 0
    for seed in range(12):
        evaluate, calls = make_evaluate(slope, x0, seed)
        th = us.find_threshold(evaluate, 0.0, 10.0, 5.0, name="x1", rng=np.random.default_rng(seed))
        assert th.status == "found"
        # the shared noise (sd 2 / sqrt(10) on the mean) shifts the crossing by about that / slope
        assert th.value == pytest.approx(x0, abs=3 * 2.0 / math.sqrt(10) / abs(slope) + 0.2)
        assert th.low <= th.value <= th.high
        hits += th.low <= x0 <= th.high
        assert len(calls) <= 10 and calls[:2] == [0.0, 10.0]
    assert hits >= 10


@pytest.mark.parametrize("offset", [6.0, -6.0])
def test_threshold_never_within_the_range_when_both_ends_are_sure(offset):
    evaluate, _ = make_evaluate(0.1, 0.0, 1)
    th = us.find_threshold(lambda x: evaluate(x) + offset, 0.0, 10.0, 5.0)
    assert th.status == "never" and th.sign == (1 if offset > 0 else -1)
    assert math.isnan(th.value) and len(th.points) == 2


def test_threshold_unclear_when_an_end_is_within_noise():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, 10)
    noise -= noise.mean() - 0.05  # mean 0.05 at both ends, CI straddles zero
    th = us.find_threshold(lambda x: noise.copy(), 0.0, 1.0, 0.5)
    assert th.status == "unclear"


def test_threshold_rebuilt_from_the_evaluated_points_is_the_search_result():
    """A report rebuilt from a folder sees only the evaluated sets; it must give the same answer."""
    evaluate, calls = make_evaluate(1.5, 6.1, 3)
    th = us.find_threshold(evaluate, 0.0, 10.0, 5.0, name="x", rng=np.random.default_rng(1))
    points = {x: evaluate(x) for x in calls[: len(th.points)]}
    again = us.threshold_of("x", points, 0.0, 10.0, np.random.default_rng(1))
    assert (again.status, again.value, again.low, again.high) == (
        th.status, th.value, th.low, th.high,
    )  # fmt: skip
    assert [p.x for p in again.points] == sorted(points)
