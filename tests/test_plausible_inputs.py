"""One set of plausible ranges applies to every input path: scenario and population files, trial protocols,
and objects built or edited in Python. An impossible value is refused with the field, the value and what
was expected; a value in the wrong unit is named as such."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from cli_helpers import run
from hepatwin.errors import InputError
from hepatwin.model import build_model
from hepatwin.population import load_population
from hepatwin.scenario import ScenarioError, load_scenario, parse_scenario
from hepatwin.simulate import simulate
from hepatwin.spec.lint import lint
from hepatwin.trial import load_protocol

ROOT = Path(__file__).resolve().parents[1]
MSC = ROOT / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
POP = ROOT / "examples" / "populations" / "hbv_decompensated.toml"
TRIAL = ROOT / "examples" / "trials" / "zhongnan2024.toml"

BASELINE = """
name = "typed baseline"
[patient]
etiology = "HBV"
[patient.baseline]
{values}
[simulation]
end_day = 10
"""


def _scenario(**baseline) -> dict:
    import tomllib

    return tomllib.loads(BASELINE.format(values="\n".join(f"{k} = {v}" for k, v in baseline.items())))


def test_impossible_baseline_is_refused_naming_state_value_and_unit(tmp_path):
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(_scenario(H=5.0, Alb=30.0))
    assert "state H = 5 is outside its plausible range [0.05, 1.2]" in str(exc.value)
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(_scenario(H=0.6, Alb=3.1))
    msg = str(exc.value)
    assert "Alb = 3.1" in msg and "g/L" in msg and "looks like a g/dL value (31 g/L)" in msg
    # a plausible baseline runs
    assert parse_scenario(_scenario(H=0.6, Alb=31.0)).patient.baseline == {"H": 0.6, "Alb": 31.0}
    # the CLI refuses the same file with exit 2 and writes nothing
    f = tmp_path / "b.toml"
    f.write_text(BASELINE.format(values="H = 5.0\nAlb = 3.1"))
    p = run("simulate", f, "--out", tmp_path / "o")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "state H = 5" in p.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("old, new, words", [
    ("dose = 1.0e8", "dose = 100", ["dose 100 cells", "below the plausible 100000"]),
    ("volume_ml = 100", "volume_ml = 1e9", ["volume_ml", "less than or equal to 1000"]),
])
def test_implausible_regimens_are_refused(tmp_path, old, new, words):
    text = MSC.read_text()
    assert old in text
    f = tmp_path / "s.toml"
    f.write_text(text.replace(old, new, 1))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    for w in words:
        assert w in str(exc.value), exc.value


def test_protocol_arms_take_the_same_dose_ranges(tmp_path):
    text = TRIAL.read_text()
    assert "dose = 2.5e7" in text
    f = tmp_path / "t.toml"
    f.write_text(text.replace("dose = 2.5e7", "dose = 100", 1).replace('"../populations/', f'"{POP.parent}/'))
    with pytest.raises(InputError, match="below the plausible"):
        load_protocol(f)


@pytest.mark.parametrize("old, new, words", [
    ("age_years = { dist = \"normal\", mean = 50, sd = 10, low = 25, high = 75 }",
     "age_years = { dist = \"normal\", mean = 500, sd = 10 }", ["age_years", "[18, 100] years"]),
    ("weight_kg = { dist = \"normal\", mean = 65, sd = 10, low = 40, high = 110 }",
     "weight_kg = { dist = \"normal\", mean = 65, sd = 10, low = 40, high = 1100 }", ["weight_kg", "1100"]),
    ("kp = { dist = \"lognormal\", sigma = 0.2, low = 0.02, high = 0.3 }",
     "kp = { dist = \"lognormal\", median = 8, sigma = 0.2 }", ["parameter kp", "[0.02, 0.3]"]),
    ("years = { dist = \"uniform\", low = 15, high = 40 }", "years = { dist = \"uniform\", low = 15, high = 400 }",
     ["history.years", "[0, 80]"]),
    ("Alb = { dist = \"normal\", mean = 31, sd = 3 }", "Alb = { dist = \"normal\", mean = 3.1, sd = 0.3 }",
     ["targets.Alb", "[5, 80] g/L"]),
])
def test_implausible_population_files_are_refused(tmp_path, old, new, words):
    text = POP.read_text()
    assert old in text, old
    f = tmp_path / "p.toml"
    f.write_text(text.replace(old, new))
    with pytest.raises(InputError) as exc:
        load_population(f)
    for w in words:
        assert w in str(exc.value), exc.value


def test_scenarios_edited_in_python_are_checked_before_they_run():
    scen = load_scenario(MSC)
    scen.parameters["kS"] = 1e6          # a dict edit: no assignment check can see it
    with pytest.raises(ScenarioError, match=r"kS = 1000000.0 1/day is outside its plausible range"):
        simulate(scen)
    scen = load_scenario(MSC)
    scen.parameters["no_such_parameter"] = 1.0
    with pytest.raises(ScenarioError, match="unknown parameter 'no_such_parameter'"):
        simulate(scen)
    scen = load_scenario(MSC)
    with pytest.raises(ValidationError, match="greater than 0"):
        scen.regimen[0].dose = -5
    # model_copy(update=...) skips validation entirely; the run does not
    bad = scen.model_copy(update={"regimen": [scen.regimen[0].model_copy(update={"dose": -5.0})]})
    with pytest.raises(ScenarioError, match="dose"):
        simulate(bad)


def test_every_state_declares_a_plausible_range_holding_its_healthy_value():
    spec = build_model()
    for s in spec.states.values():
        assert s.lower <= s.initial <= s.upper and s.upper < float("inf"), s.name
    assert not [f for f in lint(spec) if f.code.startswith("state-range")]
