"""Plausible behaviour (MISSION): every check passes, through the API and the CLI."""

import json
import subprocess
import sys

import pytest

from hepatwin.checks import run_checks


@pytest.fixture(scope="module")
def checks():
    return {c.name: c for c in run_checks()}


def test_all_plausibility_checks_pass(checks):
    failed = {n: c.numbers for n, c in checks.items() if not c.passed}
    assert not failed, failed


def test_progression_takes_years(checks):
    n = checks["progression_to_cirrhosis"].numbers
    assert 5 <= n["years_to_F4"] <= 40 and n["years_to_decompensation"] > n["years_to_F4"]


def test_msc_effect_lasts_weeks_not_years(checks):
    n = checks["msc_raises_albumin_and_pta"].numbers
    assert n["albumin_peak_gain_g_L"] >= 1.0 and 20 <= n["peak_day"] <= 120


def test_every_knockout_costs_benefit(checks):
    for name in ("immunomodulation", "antifibrosis", "regeneration", "microcirculation", "anti_cell_death"):
        n = checks[f"knockout_msc_{name}"].numbers
        assert n["albumin_benefit_knockout_gL_day"] < n["albumin_benefit_full_gL_day"], name


def test_cli_model_check_json():
    proc = subprocess.run([sys.executable, "-m", "hepatwin.cli", "model", "check", "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(proc.stdout)
    assert all(r["passed"] for r in rows) and len(rows) >= 11


def test_cli_model_check_table_shows_verdicts_as_words():
    # the consoles read no markup (brackets in names stay as typed), so a verdict must be styled text, not "[green]"
    proc = subprocess.run([sys.executable, "-m", "hepatwin.cli", "model", "check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS healthy_stays_healthy") and "[green]" not in proc.stdout
