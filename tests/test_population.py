"""Virtual populations: seeds per patient, acceptance table, selection to targets, CLI."""

import json
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from hepatwin.errors import InputError
from hepatwin.population import ScreeningError, generate, load_population

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
    with pytest.raises(InputError, match=r"history\.years"):
        load_population(bad)


def test_cli_population_generate(tmp_path):
    p = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "generate", str(POP), "--n", "40",
                        "--out", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "acceptance rate" in p.stdout and "rejected by" in p.stdout and "KS" in p.stdout
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["n_accepted"] == 40 and man["seed"] == 2024
    assert (tmp_path / "patients.parquet").stat().st_size > 0


def _variant(tmp_path: Path, old: str, new: str, src: Path = POP) -> Path:
    """A copy of a population file with one text replacement (which must occur)."""
    text = src.read_text()
    assert old in text
    path = tmp_path / "pop.toml"
    path.write_text(text.replace(old, new))
    return path


def test_unknown_target_is_refused_at_load_with_a_suggestion(tmp_path):
    bad = _variant(tmp_path, "Alb = { dist", "Albx = { dist")
    with pytest.raises(InputError) as exc:
        load_population(bad)
    msg = str(exc.value)
    for w in ("targets.Albx", "'Albx'", "did you mean 'Alb'", "meld", "age_years", "kp"):
        assert w in msg, msg


def test_unknown_criterion_variable_is_refused_at_load(tmp_path):
    bad = _variant(tmp_path, 'variable = "ascites_grade"', 'variable = "ascites"')
    with pytest.raises(InputError, match=r"criteria\[2\]\.variable = 'ascites'.*did you mean 'ascites_grade'"):
        load_population(bad)


def test_cli_unknown_target_exits_2_without_traceback(tmp_path):
    bad = _variant(tmp_path, "Alb = { dist", "Albx = { dist")
    p = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "generate", str(bad), "--n", "3",
                        "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "error:" in p.stderr and "targets.Albx" in p.stderr


@pytest.mark.parametrize("field, old, new, words", [
    ("years", "low = 15, high = 40", "low = -15, high = 40", ["history.years", "low = -15", ">= 0"]),
    ("years", 'dist = "uniform", low = 15, high = 40', 'dist = "normal", mean = 25, sd = 10',
     ["history.years", "normal", "low >= 0"]),
    ("years", 'dist = "uniform", low = 15, high = 40', 'dist = "fixed", value = -2', ["history.years", "-2"]),
    ("injury_scale", "median = 1.6, sigma = 0.3, low = 0.5", "median = 1.6, sigma = 0.3, low = -0.5",
     ["history.injury_scale", "low = -0.5"]),
])
def test_negative_history_is_refused_at_load(tmp_path, field, old, new, words):
    with pytest.raises(InputError) as exc:
        load_population(_variant(tmp_path, old, new))
    for w in words:
        assert w in str(exc.value), exc.value


def test_screening_that_accepts_nobody_is_an_error_naming_the_criterion(tmp_path):
    cirrhosis = POP.parent / "cirrhosis_natural_history.toml"
    cfg = load_population(_variant(tmp_path, 'op = ">="\nvalue = 4', 'op = ">="\nvalue = 40', cirrhosis))
    with pytest.raises(ScreeningError) as exc:
        generate(cfg, 1)
    msg = str(exc.value)
    for w in ("no candidate met the acceptance criteria", "20 candidates screened", "'cirrhosis (F4)'"):
        assert w in msg, msg


def test_cli_screening_that_accepts_nobody_writes_nothing(tmp_path):
    # with [targets]: selection used to fail inside the density estimate with a message about `dataset`
    bad = _variant(tmp_path, 'op = ">"\nvalue = 30', 'op = ">"\nvalue = 0')
    out = tmp_path / "o"
    out.mkdir()
    (out / "manifest.json").write_text("{}")  # an earlier run in the folder must survive
    p = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "generate", str(bad), "--n", "1",
                        "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "error: no candidate met the acceptance criteria" in p.stderr and "'MELD above 30'" in p.stderr
    assert sorted(f.name for f in out.iterdir() if f.name != ".hepatwin.lock") == ["manifest.json"]


def test_too_few_accepted_to_select_to_targets_is_an_error(cfg):
    with pytest.raises(ScreeningError, match=r"at least 10 accepted patients.*ask for at least 10 patients"):
        generate(cfg, 3)


def test_criterion_describes_what_a_rejected_patient_failed():
    from hepatwin.population.config import Criterion
    inc = Criterion(name="decompensated", variable="ascites_grade", op=">=", value=1)
    exc = Criterion(name="MELD above 30", variable="meld", op=">", value=30, kind="exclusion")
    assert inc.describe() == "inclusion not met: ascites_grade >= 1"
    assert exc.describe() == "excluded because meld > 30"
    # an exclusion criterion rejects the patients for whom its rule holds
    assert list(exc.holds(np.array([25.0, 31.0]))) == [True, False]
