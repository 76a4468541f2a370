"""The Jacobian structure read from the spec, and the block-triangular layout the engine factors."""

import numpy as np

from hepatwin.engine import compile_model
from hepatwin.engine.batched import compile_batched, solve_batch
from hepatwin.engine.structure import block_triangular, jacobian_pattern
from hepatwin.model import build_model
from hepatwin.spec.model import Derived, ModelSpec, Module, Parameter, Process, State


def _chain_spec() -> ModelSpec:
    """A -> B <-> C, D fed by C through a derived quantity; E alone (a known answer)."""
    par = [Parameter(n, v, "1/day", 0, 10, "assumed: test") for n, v in
           (("k1", 2.0), ("k2", 1.0), ("k3", 0.5), ("k4", 3.0), ("k5", 0.1))]
    return ModelSpec("chain", [Module(
        "m", "", states=[State(s, "1", 1.0) for s in "EDCBA"], parameters=par,
        derived=[Derived("cc", "C*C", "1")],
        processes=[Process("ab", "k1*A", {"A": -1, "B": 1}), Process("bc", "k2*B", {"B": -1, "C": 1}),
                   Process("cb", "k3*C", {"C": -1, "B": 1}), Process("d_in", "k4*cc", {"D": 1}),
                   Process("d_out", "k5*D", {"D": -1}), Process("e_out", "k5*E", {"E": -1})])])


def test_pattern_of_a_known_model():
    spec = _chain_spec()
    p = jacobian_pattern(spec)
    expected = {("A", "A"), ("B", "A"), ("B", "B"), ("B", "C"), ("C", "B"), ("C", "C"), ("D", "C"), ("D", "D"),
                ("E", "E")}
    got = {(spec.state_names[i], spec.state_names[j]) for i, j in zip(*np.nonzero(p), strict=True)}
    assert got == expected
    btf = block_triangular(p)
    order = [spec.state_names[k] for k in btf.perm]
    # A before the B-C cycle before D; E depends on nothing
    assert order.index("A") < order.index("B") < order.index("D")
    assert sorted(btf.block_sizes) == [1, 1, 1, 2]
    assert abs(order.index("B") - order.index("C")) == 1  # the cycle is one 2 x 2 block


def test_numerical_jacobian_lies_inside_the_pattern_and_layout_is_block_lower_triangular():
    spec = build_model()
    model = compile_model(spec)
    pattern = jacobian_pattern(spec)
    rng = np.random.default_rng(3)
    p = model.param_vector(spec.default_values())
    scales = spec.state_scales()
    for _ in range(5):
        y = scales * np.exp(rng.normal(0, 0.5, scales.size))
        f0 = model.rhs(0.0, y, p)
        for j in range(y.size):
            z = y.copy()
            z[j] *= 1 + 1e-6
            changed = model.rhs(0.0, z, p) != f0
            assert not np.any(changed & ~pattern[:, j]), spec.state_names[j]
    btf = block_triangular(pattern)
    permuted = pattern[np.ix_(btf.perm, btf.perm)]
    block = np.repeat(np.arange(len(btf.block_sizes)), btf.block_sizes)
    upper = block[:, None] < block[None, :]
    assert not permuted[upper].any()
    assert sorted(btf.perm.tolist()) == list(range(len(spec.state_names)))
    solve_flops, factor_flops = btf.dense_flops()
    n = len(spec.state_names)
    assert solve_flops < n * n and factor_flops < n**3 // 3


def test_engine_on_a_model_with_cycles_and_chains_matches_the_analytic_solution():
    spec = _chain_spec()
    bm = compile_batched(spec)
    y0 = np.ones((1, 5))
    k1 = 2.0
    params = np.array([[2.0, 1.0, 0.5, 3.0, 0.1]])
    t = np.array([0.0, 0.5, 1.0, 3.0])
    sol = solve_batch(bm, y0, params, 0.0, t, [[]], rtol=1e-10, atol=1e-12)
    names = spec.state_names
    assert sol.status_names() == ["ok"]
    A = sol.y[0, names.index("A")]
    E = sol.y[0, names.index("E")]
    np.testing.assert_allclose(A, np.exp(-k1 * t), rtol=1e-7)
    np.testing.assert_allclose(E, np.exp(-0.1 * t), rtol=1e-7)
    # B + C gains exactly what A loses
    B, C = sol.y[0, names.index("B")], sol.y[0, names.index("C")]
    np.testing.assert_allclose(B + C, 2.0 + (1 - np.exp(-k1 * t)), rtol=1e-7)


def test_jacobian_column_groups_partition_the_columns_and_share_no_row():
    from hepatwin.engine.structure import column_groups, jacobian_pattern
    from hepatwin.model import build_model

    pattern = jacobian_pattern(build_model())
    groups = column_groups(pattern)
    cols = sorted(j for g in groups for j in g)
    assert cols == list(range(pattern.shape[1]))
    for g in groups:
        rows = pattern[:, g].sum(axis=1)
        assert rows.max() <= 1, g        # no row depends on two columns of one group
    assert len(groups) < pattern.shape[1] / 2   # the point: far fewer evaluations than columns


def test_gated_rates_give_the_same_right_hand_side():
    """The generated rhs skips rates `gate*...` while the gate is 0: the same derivatives as the plain formula."""
    import numpy as np

    from hepatwin.engine.codegen import compile_model
    from hepatwin.model import build_model

    spec = build_model()
    model = compile_model(spec)
    rng = np.random.default_rng(0)
    y = model.state_vector(spec.healthy_state()) * rng.uniform(0.5, 1.5, len(spec.states))
    for hz in (0.0, 1.0):
        p = model.param_vector(spec.default_values())
        p[model.param_index("hz_on")] = hz
        dy = model.rhs(0.0, y, p)
        i = model.state_index("CH_death")
        d = dict(zip(model.derived_names, model.derived(y[:, None], p[:, None]), strict=True))
        assert dy[i] == (hz * d["hazard_death"][0] if hz else 0.0)
