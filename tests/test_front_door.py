"""The run API's front door: any engine for any run, replicate trials split into tasks without changing a
number, and one progress protocol, `progress(stage, done, total)`, for every long-running function."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_helpers import refused, run
from hepatwin.errors import InputError
from hepatwin.population import load_population
from hepatwin.population.generate import generate
from hepatwin.population.large import read_chunks, run_chunks
from hepatwin.scenario import Regimen
from hepatwin.trial import parse_protocol, run_trial
from hepatwin.trial import power as power_module
from hepatwin.trial.power import power_analysis
from hepatwin.trial.tables import build_tables
from test_trial import POP, small_protocol

ROOT = Path(__file__).resolve().parents[1]
UNTREATED = ROOT / "examples" / "scenarios" / "hbv_decompensated_untreated.toml"
#: a population file with criteria and no targets (two patients can be asked for)
COHORT = ROOT / "examples" / "populations" / "cirrhosis_natural_history.toml"


# ----------------------------------------------------------------------------- engines


def test_a_trial_on_the_reference_engine_matches_the_compiled_one():
    """The same subjects, visits and draws; the labs agree within the solvers' tolerance (1e-6 relative)."""
    proto, pop = parse_protocol(small_protocol(arm=[
        {"name": "control", "n": 2, "control": True},
        {"name": "msc", "n": 2, "regimen": [{"dose": 1e8, "days": [1, 8, 15], "volume_ml": 100}]}]))
    fast = run_trial(proto, pop, engine="numba")
    ref = run_trial(proto, pop, engine="scipy")
    assert (fast.engine, ref.engine) == ("numba", "scipy")
    a, b = build_tables(fast)["adlb"], build_tables(ref)["adlb"]
    assert a[["USUBJID", "PARAM", "AVISIT"]].equals(b[["USUBJID", "PARAM", "AVISIT"]])
    continuous = ~a["PARAM"].isin(["Asc"])
    x, y = a.loc[continuous, "AVAL"].to_numpy(float), b.loc[continuous, "AVAL"].to_numpy(float)
    ok = np.isfinite(x)
    assert ok.sum() > 20 and np.array_equal(ok, np.isfinite(y))
    # relative, with a floor of 0.01 for values near zero (the ALBI score crosses zero: -0.0671 vs -0.0671183)
    assert np.max(np.abs(x[ok] - y[ok]) / np.maximum(np.abs(x[ok]), 1e-2)) < 1e-3


def test_an_unknown_engine_is_an_input_error_naming_the_choices(tmp_path):
    proto, pop = parse_protocol(small_protocol())
    with pytest.raises(InputError, match=r"'fortran'.*numba, scipy"):
        run_trial(proto, pop, engine="fortran")
    p = run("population", "simulate", POP, "--n", "2", "--engine", "fortran", "--out", tmp_path / "o")
    assert p.returncode == 2 and "fortran" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()


def test_population_simulate_on_the_reference_engine_records_it_and_resumes_only_on_it(tmp_path):
    fast, ref = tmp_path / "numba", tmp_path / "scipy"
    common = ["--n", "2", "--end-day", "21", "--step-days", "7", "--chunk", "1"]
    assert run("population", "simulate", COHORT, *common, "--out", fast).returncode == 0
    p = run("population", "simulate", COHORT, *common, "--engine", "scipy", "--out", ref)
    assert p.returncode == 0, p.stderr
    assert json.loads((ref / "manifest.json").read_text())["engine"] == "scipy"
    assert json.loads((fast / "manifest.json").read_text())["engine"] == "numba"
    a, b = read_chunks(fast), read_chunks(ref)
    assert a[["patient_id", "day"]].equals(b[["patient_id", "day"]])
    for v in ("Alb", "Bil", "CPA", "HVPG"):
        assert np.allclose(a[v], b[v], rtol=1e-3, atol=0), v
    # the engine is part of the run's settings: the folder is not continued on the other engine
    refused(run("population", "simulate", COHORT, *common, "--engine", "numba", "--out", ref), "engine", "scipy",
            "numba")


# ----------------------------------------------------------------------------- replicate trials as tasks


def test_replicate_r_is_the_same_trial_however_the_replicates_are_split():
    proto, pop = parse_protocol(small_protocol())
    whole = run_trial(proto, pop, replicates=3)
    last = run_trial(proto, pop, replicates=1, first_replicate=2)
    assert set(last.subjects["replicate"]) == {2}
    mine = whole.replicate(2)
    pd.testing.assert_frame_equal(mine.subjects.reset_index(drop=True), last.subjects.reset_index(drop=True))
    pd.testing.assert_frame_equal(mine.labs, last.labs.reset_index(drop=True))
    assert mine.consort.drop(columns=[]).equals(last.consort.reset_index(drop=True))


def test_power_tables_do_not_depend_on_how_replicates_are_split_into_tasks(monkeypatch):
    proto, pop = parse_protocol(small_protocol())
    one_task, tests_one = power_analysis(proto, pop, replicates=4, n_per_arm=[4, 5])
    monkeypatch.setattr(power_module, "TASK_SUBJECTS", 8)   # one replicate per task
    calls = []
    many_tasks, tests_many = power_analysis(proto, pop, replicates=4, n_per_arm=[4, 5],
                                            progress=lambda s, d, t: calls.append((s, d, t)))
    pd.testing.assert_frame_equal(one_task, many_tasks)
    pd.testing.assert_frame_equal(tests_one.drop(columns="seconds"), tests_many.drop(columns="seconds"))
    tasks = [c for c in calls if c[0].startswith("replicate trials")]
    assert [c[1] for c in tasks] == list(range(1, 9)) and {c[2] for c in tasks} == {8}   # 4 + 4 tasks


# ----------------------------------------------------------------------------- one progress protocol


class Recorder:
    """A progress callback that checks every call keeps the protocol: a stage in words, a number done, a
    total that is None or a number at least as large."""

    def __init__(self):
        self.calls: list[tuple] = []

    def __call__(self, stage, done, total):
        assert isinstance(stage, str) and stage
        assert isinstance(done, int | float) and math.isfinite(done) and done >= 0
        assert total is None or (isinstance(total, int | float) and done <= total + 1e-9)
        self.calls.append((stage, done, total))

    def stages(self) -> list[str]:
        return [c[0] for c in self.calls]


def test_every_long_running_function_reports_stage_done_total(tmp_path):
    from hepatwin.calibrate import validate
    from hepatwin.calibrate.fit import calibrate
    from hepatwin.io.results_store import save_result
    from hepatwin.simulate import simulate
    from hepatwin.tissue.run import TissueConfig, run_tissue

    cfg = load_population(COHORT)
    rec = Recorder()
    generate(cfg, 3, chunk=2, progress=rec)
    assert rec.calls and all(s.startswith("screening") for s in rec.stages()) and rec.calls[-1][1:] == (3, 3)

    rec = Recorder()
    run_chunks(cfg, 3, [Regimen(dose=5e7, days=[1])], tmp_path / "pop", end_day=14, chunk=2, progress=rec)
    assert "simulating" in rec.stages() and rec.calls[-1] == ("simulating", 3, 3)

    rec = Recorder()
    proto, pop = parse_protocol(small_protocol())
    run_trial(proto, pop, progress=rec)
    assert rec.calls[-1] == ("simulating", 8, 8) and any(s.startswith("screening") for s in rec.stages())

    rec = Recorder()
    calibrate(ROOT / "examples" / "trials" / "zhongnan2024.toml", replicates=2, maxiter=2, progress=rec)
    assert rec.calls[-1][0].startswith("calibrating (loss ") and rec.calls[-1][1:] == (2, 2)

    rec = Recorder()
    validate(replicates=2, cohort_n=20, progress=rec)
    assert rec.calls[-1] == ("validation groups", 4, 4)

    rec = Recorder()
    save_result(simulate(UNTREATED), tmp_path / "sim", progress=rec)
    assert rec.calls[-1][0] == "writing results.csv" and rec.calls[-1][1] == rec.calls[-1][2]

    rec = Recorder()
    from hepatwin.scenario import load_scenario

    run_tissue(load_scenario(UNTREATED), TissueConfig(size=24, history_dt_days=2.0, frames=2, snapshot_days=[0.0]),
               tmp_path / "tissue", progress=rec)
    stage, done, total = rec.calls[-1]
    assert stage.startswith("tissue day") and done == pytest.approx(total)
