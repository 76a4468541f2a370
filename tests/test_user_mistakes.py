"""User mistakes on the command line end in one clear `error:` line and exit code 2: never a traceback,
never a half-done run, never a silently wrong result."""

import json
from pathlib import Path

import pytest

from cli_helpers import refused, run

ROOT = Path(__file__).resolve().parents[1]
MSC = ROOT / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
UNTREATED = ROOT / "examples" / "scenarios" / "hbv_decompensated_untreated.toml"
LABS = ["--bilirubin", "2.1", "--albumin", "28", "--inr", "1.6", "--creatinine", "1.1", "--sodium", "131"]


def test_output_paths_that_cannot_be_written(tmp_path):
    """A file where a folder is meant, a folder where a file is meant, a folder that cannot be made: the path
    the user gave is named (not a temporary file), and nothing is computed or written first."""
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    refused(run("simulate", MSC, "--out", afile), str(afile), "not a folder")
    assert afile.read_text() == "keep me"
    folder = tmp_path / "d"
    folder.mkdir()
    refused(run("export", "sbml", folder, MSC), str(folder), "is a folder")
    assert list(folder.iterdir()) == []
    refused(run("simulate", MSC, "--out", afile / "sub"), str(afile / "sub"))
    # validation writes after a long computation: a bad --out must fail before it
    p = run("validate", "--replicates", "2", "--cohort-n", "20", "--out", afile)
    refused(p, str(afile))
    # swapped arguments would write SBML over the scenario
    scen = tmp_path / "s.toml"
    scen.write_text(MSC.read_text())
    refused(run("export", "sbml", scen, MSC), "ends in .toml")
    assert scen.read_text() == MSC.read_text()


def test_inputs_that_are_not_utf8_and_names_with_brackets(tmp_path):
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(MSC.read_text().replace('name = "', 'name = "trait\u00e9 ', 1).encode("latin-1"))
    refused(run("simulate", latin1, "--out", tmp_path / "o"), str(latin1), "UTF-8")
    assert not (tmp_path / "o").exists()
    refused(run("tissue", "run", latin1, "--out", tmp_path / "t"), str(latin1), "UTF-8")
    # square brackets are shown as typed, not read as text styles
    refused(run("simulate", tmp_path / "scen[v2].toml", "--out", tmp_path / "o"), "scen[v2].toml")
    both = tmp_path / "both.toml"
    both.write_text(MSC.read_text() + "\n[patient.baseline]\nH = 0.5\n")
    refused(run("simulate", both, "--out", tmp_path / "o"), "give [patient.history] or [patient.baseline]")


def test_score_refuses_implausible_labs_and_negative_grades():
    refused(run("score", *LABS, "--ascites=-1"), "ascites", "'-1'")
    refused(run("score", *LABS, "--encephalopathy=-2"), "encephalopathy", "'-2'")
    labs = dict(zip(LABS[::2], LABS[1::2], strict=True))
    for option, value, unit in (("--sodium", "1310", "mmol/L"), ("--albumin", "2.8", "g/L"), ("--inr", "25", ""),
                                ("--bilirubin", "0", "mg/dL"), ("--bilirubin", "1e308", "mg/dL")):
        args = [x for k, v in (labs | {option: value}).items() for x in (k, v)]
        p = run("score", *args)
        refused(p, option, "plausible range", unit)
        assert "RuntimeWarning" not in p.stderr
    # the same albumin in the unit it was meant in is scored
    args = [x for k, v in (labs | {"--albumin": "2.8"}).items() for x in (k, v)]
    p = run("score", *args, "--albumin-unit", "g/dL", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["meld"] == 15, p.stderr


def test_compare_refusals(tmp_path):
    refused(run("compare", MSC, "--out", tmp_path / "c"), "two or more")
    refused(run("compare", MSC, UNTREATED, "--out", tmp_path / "c", "--days", ""), "--days")
    refused(run("compare", MSC, UNTREATED, "--out", tmp_path / "c", "--days", "0,nan"), "--days")
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "s.toml").write_text(MSC.read_text())
    refused(run("compare", tmp_path / "a" / "s.toml", tmp_path / "b" / "s.toml", "--out", tmp_path / "c"),
            "same name", "'s'")
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(("edit", "words"), [
    (("output_step_days = 1", "output_step_days = 2\noutput_days = [0, 29]"), ("output_days", "output_step_days")),
    (("dose = 1.0e8", "dose = 1e15"), ("dose", "1e+15", "plausible")),
    (('start_day = -730', 'start_day = 10000'), ("therapy[0].start_day", "10000", "end_day")),
])
def test_scenario_conflicts_are_refused(tmp_path, edit, words):
    text = MSC.read_text()
    assert edit[0] in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(edit[0], edit[1], 1))
    refused(run("simulate", bad, "--out", tmp_path / "o"), *words)
    assert not (tmp_path / "o").exists()


def test_tissue_commands_refuse_non_finite_and_bad_files(tmp_path):
    """Checked without a run: the tissue commands refuse what they cannot read before opening it."""
    refused(run("tissue", "run", tmp_path, "--out", tmp_path / "o"), "is a folder")
    small = tmp_path / "small.toml"
    small.write_text(f'[tissue]\nscenario = "{MSC}"\nsize = 64\n')
    refused(run("tissue", "run", small, "--out", tmp_path / "o", "--size", "100000"), "--size", "100000", "8192")
    refused(run("tissue", "run", small.with_name("missing.toml"), "--out", tmp_path / "o"), "does not exist")
    late = tmp_path / "late.toml"
    late.write_text(f'[tissue]\nscenario = "{MSC}"\nsize = 64\nsnapshot_days = [0, 500]\n')
    refused(run("tissue", "run", late, "--out", tmp_path / "o"), "500", "outside the run")
    assert not (tmp_path / "o").exists()                 # found before anything was written
    notnc = tmp_path / "state.nc"
    notnc.write_text("not a NetCDF file")
    refused(run("tissue", "measure", notnc), "not a hepatwin tissue snapshot file")


def test_validate_and_calibrate_find_the_examples_from_any_folder(tmp_path):
    # a user who is not in the repository root still gets the bundled trials and cohort
    p = run("validate", "--replicates", "2", "--cohort-n", "20", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert len(json.loads(p.stdout)) >= 40
    # an explicit folder without them is still refused, naming the missing file
    refused(run("validate", "--replicates", "2", "--examples", tmp_path, cwd=tmp_path), "not found")


def test_trial_power_sizes_that_are_not_numbers_are_refused_before_any_work():
    proto = ROOT / "examples" / "trials" / "zhongnan2024.toml"
    refused(run("trial", "power", proto, "--replicates", "2", "--n-per-arm", "8", "sixteen"), "'sixteen'",
            "whole numbers")
