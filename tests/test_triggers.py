"""State events (triggers): an event fires when a cumulative hazard reaches the patient's threshold, changes
the state, and the threshold moves on by the next exponential draw. Checked on a small model whose firing
times are known in closed form, on both engines."""

from __future__ import annotations

import numpy as np
import pytest

from hepatwin.engine.draws import exp_draw, splitmix64
from hepatwin.engine.solver import solve_patients
from hepatwin.model._decl import P, R, S
from hepatwin.spec.model import ModelSpec, Module, SpecError, Trigger

SEED = 123456789


def toy_spec(rate_after: float | None = None, name: str = "trigger_toy") -> ModelSpec:
    """C accumulates at rate r (a constant hazard); each firing adds 5 to X and counts in N; with
    `rate_after` a firing also sets r (the event changes the hazard that follows)."""
    trig = Trigger("hit", watch="C", threshold="thr", seed="seed", counter="N", add={"X": 5.0},
                   set={"r": rate_after} if rate_after is not None else {}, description="toy event")
    mod = Module("toy", "a cumulative hazard and its event", states=[
        S("C", "1", 0.0, "cumulative hazard", scale=1.0, bounds=(0, 1e9)),
        S("N", "1", 0.0, "firings", scale=1.0, bounds=(0, 1e9)),
        S("X", "1", 0.0, "what a firing changes", scale=1.0, bounds=(0, 1e9))],
        parameters=[P("r", 0.5, "1/day", 0.0, 10.0, "assumed: test"),
                    P("thr", 1.0, "1", 0.0, 1e9, "assumed: test", constant=False),
                    P("seed", 0.0, "1", 0.0, 2.0 ** 53, "assumed: test", constant=False)],
        processes=[R("accumulate", "r", {"C": 1.0})], triggers=[trig])
    return ModelSpec(name, [mod])


def firing_times(rates: list[float], t_end: float) -> list[float]:
    """Closed form: the k-th firing is where C = E_0 + ... + E_k; C grows at rates[min(k, last)] after the
    k-th firing."""
    times, t, level, c = [], 0.0, exp_draw(SEED, 0), 0.0
    k = 0
    while True:
        r = rates[min(k, len(rates) - 1)]
        t += (level - c) / r
        if t > t_end:
            return times
        times.append(t)
        c = level
        k += 1
        level += exp_draw(SEED, k)


def _run(spec, engine, t_out):
    names = spec.parameter_names
    p = np.array([[{"r": 0.5, "thr": exp_draw(SEED, 0), "seed": float(SEED)}[n] for n in names]])
    y0 = np.zeros((1, len(spec.state_names)))
    return solve_patients(spec, y0, p, 0.0, t_out, [[]], engine=engine, rtol=1e-8, atol=1e-10)


def test_the_draws_are_splitmix64_exponentials():
    # SplitMix64 of 0: the first output of the reference generator seeded with 0 (Vigna's splitmix64.c)
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    draws = np.array([exp_draw(SEED, k) for k in range(20000)])
    assert draws.min() > 0 and abs(draws.mean() - 1) < 0.03 and abs(draws.var() - 1) < 0.06
    assert exp_draw(SEED, 3) == exp_draw(float(SEED), 3.0) != exp_draw(SEED + 1, 3)


@pytest.mark.parametrize("engine", ["numba", "scipy"])
@pytest.mark.parametrize("rate_after", [None, 2.0])
def test_firings_happen_where_the_cumulative_hazard_reaches_the_thresholds(engine, rate_after):
    spec = toy_spec(rate_after, name=f"trigger_toy_{rate_after}".replace(".", "_"))
    t_out = np.linspace(0.0, 40.0, 4001)
    sol = _run(spec, engine, t_out)
    assert sol.status[0] == 0
    expected = firing_times([0.5] if rate_after is None else [0.5, rate_after], 40.0)
    assert len(expected) >= 5
    n = sol.y[0, spec.state_names.index("N")]
    x = sol.y[0, spec.state_names.index("X")]
    # outputs are pre-event at a firing: N counts the firings strictly before each output time
    want = np.array([sum(t > tk for tk in expected) for t in t_out], dtype=float)
    off = np.flatnonzero(n != want)
    # only output times within the located crossing's tolerance of a firing may disagree
    assert all(min(abs(t_out[i] - tk) for tk in expected) < 1e-6 for i in off), (t_out[off], expected)
    assert np.array_equal(x, 5.0 * n)
    # C keeps accumulating through the firings: C(t) is the piecewise-linear integral of the rate
    c = sol.y[0, spec.state_names.index("C")]
    if rate_after is None:
        exact = 0.5 * t_out
    else:
        first = expected[0]
        exact = np.where(t_out <= first, 0.5 * t_out, 0.5 * first + rate_after * (t_out - first))
    assert np.allclose(c, exact, rtol=1e-6, atol=1e-8)


def test_both_engines_fire_at_the_same_times():
    spec = toy_spec(2.0, name="trigger_toy_pair")
    t_out = np.linspace(0.0, 30.0, 301)
    a, b = _run(spec, "numba", t_out), _run(spec, "scipy", t_out)
    n = spec.state_names.index("N")
    assert np.array_equal(a.y[0, n], b.y[0, n]) and a.y[0, n, -1] >= 4


def test_a_trigger_is_checked_when_the_spec_is_built():
    base = toy_spec()
    mod = base.modules[0]
    for change, words in (({"watch": "nope"}, "watch 'nope' is not a state"),
                          ({"threshold": "r"}, "must be declared constant=False"),
                          ({"add": {"Y": 1.0}}, "unknown state 'Y'")):
        trig = Trigger(**({"name": "hit", "watch": "C", "threshold": "thr", "seed": "seed", "counter": "N"} | change))
        with pytest.raises(SpecError, match=words):
            ModelSpec("bad", [Module("toy", "", mod.states, mod.parameters, processes=mod.processes,
                                     triggers=[trig])])
