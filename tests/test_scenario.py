"""Bad input ends in a clear message naming field, value and expectation; exit 2 from the CLI."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from hepatwin.scenario import ScenarioError, load_scenario, parse_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "scenarios"


def _error(d) -> str:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(d, "s.toml")
    return str(exc.value)


@pytest.mark.parametrize("mutate, field, value, expected", [
    (lambda d: d["patient"].update(etiology="HBX"), "patient.etiology", "'HBX'", "HBV"),
    (lambda d: d["regimen"][0].update(dose=-5e7), "regimen[0].dose", "-5", "greater than 0"),
    (lambda d: d["regimen"][0].update(dose=0), "regimen[0].dose", "0", "greater than 0"),
    (lambda d: d["regimen"][0].update(dose_unit="cells/lb"), "regimen[0].dose_unit", "'cells/lb'", "cells/kg"),
    (lambda d: d["regimen"][0].update(route="nasal"), "regimen[0].route", "'nasal'", "peripheral_iv"),
    (lambda d: d["simulation"].update(output_days=[0, 29, 15]), "simulation.output_days", "[0, 29, 15]",
     "strictly increasing"),
    (lambda d: d["simulation"].update(end_day=float("nan")), "simulation.end_day", "nan", "finite"),
    (lambda d: d["regimen"][0].update(dose=float("nan")), "regimen[0].dose", "nan", "finite"),
    (lambda d: d["simulation"].update(knockouts=["telepathy"]), "simulation.knockouts", "telepathy",
     "immunomodulation"),
    (lambda d: d["parameters"].update(nonsense=1.0), "parameters", "nonsense", "unknown parameter"),
    (lambda d: d["parameters"].update(kS=100.0), "parameters", "kS = 100", "plausible range"),
    (lambda d: d["therapy"][0].update(kind="abstinence"), "(top level)", "abstinence", "does not treat"),
    (lambda d: d["patient"].update(colour="blue"), "patient.colour", "blue", "unknown field"),
])
def test_bad_field_is_named_with_value_and_expectation(scenario_dict, mutate, field, value, expected):
    d = copy.deepcopy(scenario_dict)
    d.setdefault("parameters", {})
    mutate(d)
    msg = _error(d)
    assert field in msg and value in msg and expected in msg, msg


def test_knockouts_accept_short_and_full_names(scenario_dict):
    scenario_dict["simulation"]["knockouts"] = ["immunomodulation", "msc_antifibrosis"]
    s = parse_scenario(scenario_dict)
    assert s.simulation.knockouts == ["msc_immunomodulation", "msc_antifibrosis"]


def test_examples_load():
    for path in EXAMPLES.glob("*.toml"):
        assert load_scenario(path).patient.etiology == "HBV"


def test_cli_bad_scenario_exit_2_no_traceback_nothing_written(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[patient]\netiology = "HBV"\n[patient.history]\nyears = 20\n'
                   '[[regimen]]\ndose = 1e8\ndose_unit = "cells/lb"\ndays = [1]\n')
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "hepatwin.cli", "simulate", str(bad), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "regimen[0].dose_unit" in proc.stderr and "cells/lb" in proc.stderr
    assert not out.exists()


def test_cli_not_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    for path in (bad, tmp_path / "missing.toml"):
        proc = subprocess.run([sys.executable, "-m", "hepatwin.cli", "simulate", str(path), "--out",
                               str(tmp_path / "o")], capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr and str(path.name) in proc.stderr
