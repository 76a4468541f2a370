"""Virtual populations: seeds per patient, acceptance table, selection to targets, CLI."""

import json
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from hepatwin.population import generate, load_population
from hepatwin.scenario import ScenarioError

POP = Path(__file__).resolve().parents[1] / "examples" / "populations" / "hbv_decompensated.toml"


@pytest.fixture(scope="module")
def cfg():
    return load_population(POP)


@pytest.fixture(scope="module")
def pop(cfg):
    return generate(cfg, 150, chunk=64)


def test_same_patients_for_any_chunk_size_and_thread_count(cfg, pop):
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        other = generate(cfg, 150, chunk=150)
    finally:
        numba.set_num_threads(threads)
    assert pop.accepted["patient_id"].tolist() == other.accepted["patient_id"].tolist()
    for col in ("kp", "injury_scale", "Alb", "CPA", "meld"):
        assert np.array_equal(pop.accepted[col].to_numpy(), other.accepted[col].to_numpy()), col
    assert pop.selected["patient_id"].tolist() == other.selected["patient_id"].tolist()


def test_acceptance_table_is_applied_and_reported(pop):
    acc = pop.accepted
    assert len(acc) == 150
    assert (acc["stage"] >= 4).all() and (acc["ascites_grade"] >= 1).all() and (acc["meld"] <= 30).all()
    rejected = pop.candidates[~pop.candidates["accepted"]]
    assert (rejected["rejected_by"] != "").all()
    assert sum(pop.rejections.values()) == len(rejected)
    assert pop.acceptance_rate == pytest.approx(150 / len(pop.candidates))


def test_truncation_and_copula(cfg):
    from hepatwin.population import sample

    s = sample(cfg, np.arange(4000))
    assert s["age_years"].between(25, 75).all() and s["injury_scale"].between(0.5, 4.0).all()
    rho = np.corrcoef(np.log(s["kp"]), np.log(s["g_alb"]))[0, 1]
    assert 0.2 < rho < 0.4  # Gaussian-copula correlation 0.3 on the log scale of two lognormals


def test_selection_moves_towards_target(pop):
    ks = pop.ks["Alb"]
    assert ks["ks_selected"] < ks["ks_plausible"]
    sel = pop.selected["Alb"]
    assert abs(sel.mean() - 31) < abs(pop.accepted["Alb"].mean() - 31) + 1e-9


def test_bad_population_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(POP.read_text().replace('dist = "uniform", low = 15, high = 40', 'dist = "gamma", low = 15'))
    with pytest.raises(ScenarioError, match=r"history\.years"):
        load_population(bad)


def test_cli_population_generate(tmp_path):
    p = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "generate", str(POP), "--n", "40",
                        "--out", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "acceptance rate" in p.stdout and "rejected by" in p.stdout and "KS" in p.stdout
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["n_accepted"] == 40 and man["seed"] == 2024
    assert (tmp_path / "patients.parquet").stat().st_size > 0
