"""The spec language: unit checking, lint findings, structure errors, docs."""

import pytest

from hepatwin.model import build_model
from hepatwin.spec.expr import Expr, ExpressionError, evaluate, infer_unit
from hepatwin.spec.lint import lint
from hepatwin.spec.model import Derived, ModelSpec, Module, Parameter, Process, SpecError, State
from hepatwin.spec.units import UnitError, parse_unit


def _spec(rate="k*X", unit_k="1/day", source="assumed: test", value=0.1, extra_params=(), derived=()):
    params = [Parameter("k", value, unit_k, 0.0, 1.0, source), *extra_params]
    return ModelSpec("t", [Module("m", "test", states=[State("X", "g/L", 1.0)], parameters=params,
                                  derived=list(derived), processes=[Process("decay", rate, {"X": -1})])])


def codes(spec):
    return {f.code for f in lint(spec)}


def test_real_model_lints_clean():
    findings = lint(build_model())
    assert [f for f in findings if f.severity == "error"] == []
    assert findings == []  # not even warnings


def test_rate_unit_mismatch_is_an_error():
    # k in 1/h would be fine dimensionally but not in state-unit per day without conversion
    assert "rate-unit" in codes(_spec(unit_k="1/h"))
    assert "rate-unit" in codes(_spec(unit_k="g/L"))
    assert "rate-unit" not in codes(_spec())


def test_missing_and_invalid_sources():
    assert "source-missing" in codes(_spec(source=""))
    assert "source-invalid" in codes(_spec(source="Smith et al. said so"))
    assert "source-invalid" in codes(_spec(source="assumed:"))
    for ok in ("doi:10.1371/journal.pone.0123311", "PMID:22320928", "https://example.org/x",
               "calibrated: albumin at day 85"):
        assert not codes(_spec(source=ok)) & {"source-missing", "source-invalid"}


def test_value_outside_bounds_and_unused_parameter():
    assert "value-out-of-bounds" in codes(_spec(value=2.0))
    spare = Parameter("spare", 1.0, "1", 0.0, 2.0, "assumed: test")
    found = lint(_spec(extra_params=[spare]))
    assert any(f.code == "unused-parameter" and f.severity == "warning" and "spare" in f.where for f in found)


def test_percent_and_plain_number_are_not_mixed():
    pct = Parameter("frac", 50.0, "percent", 0.0, 100.0, "assumed: test")
    d = Derived("y", "1 - frac", "1")
    assert "unit-inconsistent" in codes(_spec(extra_params=[pct], derived=[d]))


def test_derived_unit_scale_mismatch_reports_factor():
    c = Parameter("c", 1.0, "mg/L", 0.0, 2.0, "assumed: test")
    d = Derived("y", "c", "g/L", observable=True)
    [f] = [f for f in lint(_spec(extra_params=[c], derived=[d])) if f.code == "unit-mismatch"]
    assert "0.001" in f.message


def test_unit_inference_rules():
    u = {"x": parse_unit("ng/mL"), "K": parse_unit("ng/mL"), "n": parse_unit("1"), "t": parse_unit("day")}
    assert infer_unit(Expr.parse("hill(x, K, n)"), u) == parse_unit("1")
    assert infer_unit(Expr.parse("x/t"), u) == parse_unit("ng/mL/day")
    with pytest.raises(UnitError):
        infer_unit(Expr.parse("exp(x)"), u)
    with pytest.raises(UnitError):
        infer_unit(Expr.parse("x + t"), u)
    with pytest.raises(UnitError):
        infer_unit(Expr.parse("x**n"), u)  # dimensional base to a symbolic power
    assert infer_unit(Expr.parse("max(0, x)"), u) == parse_unit("ng/mL")


@pytest.mark.parametrize("text", ["x.real", "x < 1", "foo(x)", "lambda: 1", "x if x else 1", "'a'", "hill(x, 1)"])
def test_expressions_outside_the_language_are_rejected(text):
    with pytest.raises(ExpressionError):
        Expr.parse(text)


def test_evaluate_matches_hand_values():
    # hill(2, 2, 3) = 8/(8+8) = 0.5; step(3, 3) = 1; max(0, -1) = 0
    assert evaluate(Expr.parse("hill(a, a, 3) + step(b, b) + max(0, -1)"), {"a": 2.0, "b": 3.0}) == 1.5


def test_structural_errors():
    with pytest.raises(SpecError, match="unknown name"):
        _spec(rate="k*Y")
    with pytest.raises(SpecError, match="cycle"):
        ModelSpec("t", [Module("m", "", derived=[Derived("a", "b", "1"), Derived("b", "a", "1")])])
    with pytest.raises(SpecError, match="declared in module"):
        ModelSpec("t", [Module("m", "", states=[State("X", "1", 0)]), Module("n", "", states=[State("X", "1", 0)])])


def test_every_parameter_has_source_bounds_and_unit():
    spec = build_model()
    assert len(spec.parameters) > 100
    for p in spec.parameters.values():
        assert p.source_info.kind in ("citation", "calibrated", "assumed"), p.name
        assert p.lower <= p.value <= p.upper, p.name
        parse_unit(p.unit)


def test_each_msc_mechanism_is_a_switchable_module():
    spec = build_model()
    assert set(spec.switches) == {"msc_immunomodulation", "msc_antifibrosis", "msc_regeneration",
                                  "msc_microcirculation", "msc_anti_cell_death"}
