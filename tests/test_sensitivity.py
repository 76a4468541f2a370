"""Sensitivity analysis and mechanism attribution: the Ishigami function written in the spec language and run
through the whole pipeline (problem from the spec, SALib sampling, the batched engine, SALib analysis) gives its
analytical indices; Shapley shares are efficient and symmetric; bad input is refused with the name."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import refused, run
from hepatwin.errors import InputError
from hepatwin.model._decl import D, P, R, S
from hepatwin.plan import RunPlan
from hepatwin.scenario import load_scenario
from hepatwin.sensitivity import attribute, attribute_scenario, run_sensitivity, scenario_sensitivity, shapley
from hepatwin.spec.model import ModelSpec, Module

ROOT = Path(__file__).resolve().parents[1]
MSC = ROOT / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
PI = math.pi
A, B = 7.0, 0.1


def ishigami_spec() -> ModelSpec:
    """Y = sin x1 + a sin^2 x2 + b x3^4 sin x1 with x_i uniform on [-pi, pi]: a derived quantity of a model whose
    only state does not move."""
    still = S("Z", "1", 1.0, "a state that does not move", bounds=(0, 2))
    mod = Module("ishigami", "the Ishigami test function", states=[still],
                 parameters=[P(f"x{i}", 0.0, "1", -PI, PI, "assumed: test input") for i in (1, 2, 3)],
                 derived=[D("Y", f"sin(x1) + {A}*sin(x2)**2 + {B}*x3**4*sin(x1)", "1", "Ishigami", observable=True)],
                 processes=[R("still", "0*Z", {"Z": -1})])
    return ModelSpec("ishigami", [mod])


def ishigami_indices():
    """Analytical first and total indices (Ishigami & Homma 1990; Sobol' & Levitan 1999)."""
    v1 = 0.5 * (1 + B * PI**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {"x1": (v1 / v, (v1 + v13) / v), "x2": (v2 / v, v2 / v), "x3": (0.0, v13 / v)}


def test_ishigami_through_the_pipeline_gives_its_analytical_indices():
    spec = ishigami_spec()
    plan = RunPlan(spec.default_values(), spec.healthy_state(), 0.0, np.array([0.0, 1.0]), [])
    res = run_sensitivity(spec, plan, ["Y@1"], method="sobol", n=1024, seed=3)
    tab = res["indices"].set_index(["parameter", "index"])["value"]
    for name, (s1, st) in ishigami_indices().items():
        assert tab[(name, "S1")] == pytest.approx(s1, abs=0.03), name
        assert tab[(name, "ST")] == pytest.approx(st, abs=0.03), name
    assert res["simulations"] == 1024 * (2 * 3 + 2)
    # the same seed gives the same indices; Morris ranks x1, x2 above x3 by mu*
    again = run_sensitivity(spec, plan, ["Y@1"], method="sobol", n=1024, seed=3)
    assert again["indices"].equals(res["indices"])
    morris = run_sensitivity(spec, plan, ["Y@1"], method="morris", n=64, seed=1)["indices"]
    mu = morris[morris["index"] == "mu_star"].set_index("parameter")["value"]
    assert mu["x3"] < mu["x2"] and mu["x3"] < mu["x1"]
    efast = run_sensitivity(spec, plan, ["Y@1"], method="efast", n=512, seed=1)["indices"]
    s1 = efast[efast["index"] == "S1"].set_index("parameter")["value"]
    assert s1["x2"] == pytest.approx(ishigami_indices()["x2"][0], abs=0.05)


def test_shapley_is_efficient_and_symmetric():
    # v(S) for 3 players: additive parts 1, 2, 2 and an interaction of 3 between players 1 and 2
    def v(s):
        return 1.0 * s[0] + 2.0 * s[1] + 2.0 * s[2] + 3.0 * s[1] * s[2]
    shares, total = attribute(lambda sw: np.array([v((sw["a"], sw["b"], sw["c"]))]), ["a", "b", "c"])
    assert shares.sum(axis=0) == pytest.approx(total) and total[0] == pytest.approx(8.0)
    assert shares[1, 0] == pytest.approx(shares[2, 0]) == pytest.approx(3.5) and shares[0, 0] == pytest.approx(1.0)
    # a player that adds nothing gets nothing
    vals = {s: np.array(2.0 * s[0]) for s in __import__("itertools").product((0, 1), repeat=2)}
    assert shapley(vals, 2)[1] == pytest.approx(0.0)


def test_attribution_of_the_msc_effect_adds_up_exactly():
    res = attribute_scenario(load_scenario(MSC), ["change:Alb@85", "IL8@29"])
    assert res["runs"] == 32
    for name, e in res["endpoints"].items():
        assert sum(e["shares"].values()) == pytest.approx(e["total"], rel=1e-12, abs=1e-12), name
        assert set(e["shares"]) == {"immunomodulation", "antifibrosis", "regeneration", "microcirculation",
                                    "anti_cell_death"}
    # IL-8 falls with MSCs, mostly by immunomodulation
    il8 = res["endpoints"]["IL8@29"]
    assert il8["total"] < 0 and min(il8["shares"], key=il8["shares"].get) == "immunomodulation"


def test_cli_attribute_json_keys_and_sensitivity_bad_input(tmp_path):
    p = run("attribute", MSC, "--outputs", "change:Alb@85", "--outputs", "PTA@29", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out) == {"endpoints"} and set(out["endpoints"]) == {"change:Alb@85", "PTA@29"}
    for e in out["endpoints"].values():
        assert set(e) == {"total", "shares"} and abs(sum(e["shares"].values()) - e["total"]) < 1e-9
    refused(run("sensitivity", "run", MSC, "--method", "sobol", "--n", "100", "--outputs", "Alb@85",
                "--params", "kp"), "--n 100", "power of two")
    refused(run("sensitivity", "run", MSC, "--outputs", "Alb@85", "--params", "kpp"), "'kpp'", "unknown parameter")
    refused(run("sensitivity", "run", MSC, "--outputs", "Albumin@85", "--params", "kp"), "'Albumin'")
    refused(run("sensitivity", "run", MSC, "--outputs", "Alb@85", "--params", "kp", "--range", "kp=0.3:0.1"),
            "kp", "low 0.3 >= high 0.1")


def test_sensitivity_cli_runs_a_small_sobol_and_writes_tables(tmp_path):
    out = tmp_path / "sa"
    p = run("sensitivity", "run", MSC, "--method", "sobol", "--n", "16", "--outputs", "change:Alb@85",
            "--params", "kp", "--params", "k_alb", "--msc-effect", "--out", out, "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["simulations"] == 2 * 16 * (2 * 2 + 2) and {"output", "parameter", "index", "value"} <= set(
        res["indices"][0])
    assert (out / "indices.csv").is_file() and (out / "indices.parquet").is_file() and (out / "manifest.json").is_file()


def test_problem_refuses_an_empty_set_and_marks_wide_ranges_log():
    from hepatwin.model import build_model
    from hepatwin.sensitivity.problem import make_problem

    spec = build_model()
    prob = make_problem(spec, ["kdx", "kp"])
    p = spec.parameters
    assert prob.log == (p["kdx"].upper / p["kdx"].lower > 10, p["kp"].upper / p["kp"].lower > 10)
    with pytest.raises(InputError, match="empty"):
        make_problem(spec, [])
    assert len(make_problem(spec, ["module:fibrosis"]).names) > 10


def test_every_executor_gives_the_same_indices():
    from hepatwin.run import make_executor
    from hepatwin.sensitivity import evaluate as ev

    spec = ishigami_spec()
    plan = RunPlan(spec.default_values(), spec.healthy_state(), 0.0, np.array([0.0, 1.0]), [])
    old = ev.CHUNK
    try:   # small chunks, so that the work is split between the processes
        import hepatwin.sensitivity.run as sr
        sr.CHUNK = 100
        serial = run_sensitivity(spec, plan, ["Y@1"], method="sobol", n=64, seed=5)
        with make_executor("processes", workers=2) as pool:
            pooled = run_sensitivity(spec, plan, ["Y@1"], method="sobol", n=64, seed=5, executor=pool)
    finally:
        sr.CHUNK = old
    assert pooled["indices"].equals(serial["indices"])


ZHONGNAN = ROOT / "examples" / "trials" / "zhongnan2024.toml"
ZHANG = ROOT / "examples" / "trials" / "zhang2012.toml"


def test_a_dose_split_parameter_changes_the_msc_effect():
    # the lung-trapped fraction splits each infusion between compartments when the run is planned; a parameter
    # set that changes it must split the doses again (it was silently ignored: every index of it was 0)
    from hepatwin.model import build_model
    from hepatwin.sensitivity.evaluate import run_rows
    from hepatwin.sensitivity.outputs import parse_output
    from hepatwin.sensitivity.target import scenario_target

    spec = build_model()
    tgt = scenario_target(spec, load_scenario(MSC))
    out = [parse_output("Mlung@2", set(spec.state_names))]
    y = run_rows(spec, tgt.treated, out, {"f_lung_iv": np.array([0.5, 0.9])})[:, 0, 0]
    assert y[1] > 1.1 * y[0] > 0     # equal when the doses are not split again


def test_time_resolved_outputs_are_one_set_of_indices_per_day():
    from hepatwin.sensitivity.outputs import expand_outputs

    assert expand_outputs(["change:Alb@0:56:28", "IL8@7"]) == ["change:Alb@0", "change:Alb@28", "change:Alb@56",
                                                                "IL8@7"]
    for bad, word in (("Alb@10:5:1", "FIRST < LAST"), ("Alb@0:x:1", "numbers"), ("Alb@0:1000:1", "at most")):
        with pytest.raises(InputError, match=word):
            expand_outputs([bad])
    res = scenario_sensitivity(load_scenario(MSC), ["change:Alb@29:85:28"], method="morris", n=4,
                               params=["kS", "Emax_im"], msc_effect=True)
    tab = res["indices"]
    assert sorted(tab["day"].unique()) == [29.0, 57.0, 85.0] and set(tab["series"]) == {"change:Alb"}
    # the MSC effect on albumin depends on the secretion potency at every day
    mu = tab[(tab["index"] == "mu_star") & (tab["parameter"] == "Emax_im")]
    assert (mu["value"] > 0).all()


def test_success_power_matches_a_hand_computed_case():
    from hepatwin.sensitivity import Success

    s = Success("Alb", "change", 85.0, 0.05, n_treated=4, n_control=4, assay_cv=0.0)
    treated = np.array([[32.0, 34.0, 36.0]])     # changes 2, 3, 4: mean 3, variance 1
    control = np.array([[30.0, 32.0, 34.0]])     # changes 0, 1, 2: mean 1, variance 1
    base = np.array([[30.0, 31.0, 32.0]])
    z = 2.0 / math.sqrt(1 / 4 + 1 / 4)           # 2.83: power 0.81
    from scipy.stats import norm
    crit = norm.ppf(0.975)
    expected = norm.cdf(z - crit) + norm.cdf(-z - crit)
    assert s.power(treated, control, base, base)[0] == pytest.approx(expected, rel=1e-9)
    # assay noise lowers the power
    assert expected == pytest.approx(0.807, abs=0.001)
    noisy = Success("Alb", "change", 85.0, 0.05, 4, 4, assay_cv=0.05)
    assert noisy.power(treated, control, base, base)[0] < s.power(treated, control, base, base)[0]


def test_attribution_over_a_protocol_arm_per_patient_and_summary(tmp_path):
    from hepatwin.sensitivity import attribute_target, load_target

    tgt = load_target(ZHONGNAN, arm="high", patients=4)
    assert tgt.kind == "protocol" and len(tgt.patient_ids) == 4 and tgt.given_msc
    res = attribute_target(tgt, ["change:Alb@85", "change:PTA@169"])
    assert res["runs"] == 32 * 4 and res["patients"] == 4
    pp = res["per_patient"]
    for (pid, out), g in pp.groupby(["patient", "output"]):
        assert g["share"].sum() == pytest.approx(g["total"].iloc[0], abs=1e-10), (pid, out)
    for name, e in res["endpoints"].items():
        sub = pp[pp["output"] == name]
        assert e["total"] == pytest.approx(sub.groupby("patient")["total"].first().mean(), rel=1e-12)
        assert sum(e["shares"].values()) == pytest.approx(e["total"], rel=1e-10)
    # patients differ: the per-patient totals are not all equal
    assert pp.groupby("patient")["total"].first().nunique() > 1
    out = tmp_path / "attr"
    p = run("attribute", ZHONGNAN, "--arm", "high", "--patients", "3", "--outputs", "change:Alb@85", "--out", out,
            "--json")
    assert p.returncode == 0, p.stderr
    assert set(json.loads(p.stdout)) == {"endpoints"}
    for f in ("attribution.csv", "attribution_per_patient.parquet", "report.html", "manifest.json"):
        assert (out / f).is_file(), f
    assert json.loads((out / "manifest.json").read_text())["patients"] == 3
    refused(run("attribute", ZHONGNAN, "--arm", "placebo", "--json"), "--arm 'placebo'", "low, medium, high")


def test_protocol_sensitivity_with_success_and_bad_input(tmp_path):
    out = tmp_path / "sa"
    p = run("sensitivity", "run", ZHANG, "--method", "morris", "--n", "4", "--patients", "6", "--outputs",
            "success", "--outputs", "change:Alb@0:337:168", "--params", "kS", "--params", "Emax_im", "--out", out,
            "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["outputs"] == ["change:Alb@0", "change:Alb@168", "change:Alb@336", "success"]
    assert res["simulations"] == 4 * 3 * 6 * 2 and (out / "report.html").is_file()
    succ = [r for r in res["indices"] if r["output"] == "success" and r["index"] == "mu_star"]
    assert len(succ) == 2 and max(r["value"] for r in succ) > 0
    refused(run("sensitivity", "run", ZHONGNAN, "--method", "morris", "--n", "4", "--patients", "3",
                "--outputs", "success", "--params", "kS"), "success", "no control arm")
    refused(run("sensitivity", "run", MSC, "--method", "morris", "--n", "4", "--outputs", "success",
                "--params", "kS"), "success", "protocol")


def test_a_parameter_that_varies_between_patients_is_shifted_not_replaced():
    from hepatwin.engine.codegen import compile_model
    from hepatwin.model import build_model
    from hepatwin.sensitivity.evaluate import Patients, parameter_rows

    spec = build_model()
    model = compile_model(spec)
    j, k = model.param_index("kp"), model.param_index("kS")
    P = np.repeat(model.param_vector(spec.default_values())[None], 2, 0)
    P[:, j] = spec.parameters["kp"].value * np.array([0.5, 2.0])     # kp varies between the two patients
    pts = Patients(np.zeros((2, len(model.state_names))), P, np.zeros(2), [[], []])
    rows = parameter_rows(spec, pts, {"kp": np.array([3 * spec.parameters["kp"].value]), "kS": np.array([0.2])})
    assert rows[0, :, j] == pytest.approx(spec.parameters["kp"].value * np.array([1.5, 6.0]))
    assert rows[0, :, k] == pytest.approx([0.2, 0.2])


def test_corners_of_the_declared_ranges_solve():
    # a liver destroyed within its 30-year history (highest HBV injury, steepest albumin and PTA relations) made
    # the oncotic term of ascites (Alb0/Alb) and the INR (PTA0/PTA) infinite; lung and liver shares of
    # circulating MSCs that sum above 1 (0.9 + 0.5) made the flow to the spleen negative; each failed the solver
    from hepatwin.model import build_model
    from hepatwin.sensitivity.evaluate import run_rows
    from hepatwin.sensitivity.outputs import parse_output
    from hepatwin.sensitivity.target import scenario_target

    spec = build_model()
    tgt = scenario_target(spec, load_scenario(MSC))
    known = set(spec.state_names) | set(spec.derived)
    outs = [parse_output(o, known) for o in ("Alb@85", "INR@85", "Mspleen@2", "Mlung@2", "Mliver@2")]
    y = run_rows(spec, tgt.treated, outs, {"k_inj_HBV": np.array([0.005, 0.0009]), "g_alb": np.array([1.5, 0.35]),
                                           "g_pta": np.array([1.5, 0.6]), "fb_lung": np.array([0.9, 0.6]),
                                           "fb_liver": np.array([0.5, 0.25])})[:, 0]
    assert np.isfinite(y).all()
    assert y[0, 1] == pytest.approx(((6 + 6 * 100 / 5) / 12) ** 1.0, rel=1e-6)   # INR at the PTA floor of 5%
    assert y[0, 2] == pytest.approx(0.0, abs=1e-3 * y[0, 3])                 # no flow to the spleen when the
    assert (y[:, 2:] >= 0).all()                                              # lung and liver shares fill it
