"""Run folders hold one run: one writer at a time, one run's files only, nothing half-written left behind;
runs too large to hold are refused up front; `population simulate` simulates the population its file
defines."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cli_helpers import refused, run
from hepatwin.io.run_folder import LOCK, FolderBusyError, run_folder
from hepatwin.limits import RunTooLargeError
from hepatwin.scenario import load_scenario
from hepatwin.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
MSC = ROOT / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
POP = ROOT / "examples" / "populations" / "hbv_decompensated.toml"


def _holder(folder: Path, seconds: float) -> subprocess.Popen:
    """Another process holding `folder` as a writer would."""
    code = ("import sys, time\nfrom hepatwin.io.run_folder import run_folder\n"
            f"with run_folder({str(folder)!r}, command='other writer'):\n"
            "    print('held', flush=True)\n"
            f"    time.sleep({seconds})\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_refused_naming_the_folder_and_the_other_process(tmp_path):
    out = tmp_path / "D"
    holder = _holder(out, 60)
    try:
        err = refused(run("simulate", MSC, "--out", out, "--no-plots"), str(out), f"process {holder.pid}",
                      "other writer")
        assert "being written" in err
        # population runs, trials and tissue runs take the same lock
        refused(run("population", "simulate", POP, "--n", "20", "--end-day", "14", "--out", out),
                f"process {holder.pid}")
        with pytest.raises(FolderBusyError), run_folder(out):
            pass
        assert sorted(p.name for p in out.iterdir()) == [LOCK]   # the refused runs wrote nothing
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_and_partial_files_of_a_killed_run_are_taken_over(tmp_path):
    out = tmp_path / "D"
    holder = _holder(out, 600)
    (out / ".results.csv.abc123.partial").write_bytes(b"half a file")
    holder.kill()            # killed: the lock file stays, its flock is released by the kernel
    holder.wait()
    assert json.loads((out / LOCK).read_text())["state"] == "running"
    p = run("simulate", MSC, "--out", out, "--no-plots")
    assert p.returncode == 0, p.stderr
    assert "interrupted run" in p.stderr and str(holder.pid) in p.stderr
    assert not list(out.glob("*.partial"))
    assert json.loads((out / LOCK).read_text())["state"] == "finished"


def test_a_run_folder_holds_one_runs_files_only(tmp_path):
    out = tmp_path / "D"
    assert run("simulate", MSC, "--out", out).returncode == 0
    assert (out / "plots").is_dir()
    (out / "extra_from_old_run.csv").write_text("old")
    assert run("simulate", MSC, "--out", out, "--no-plots").returncode == 0
    assert not (out / "plots").exists() and not (out / "extra_from_old_run.csv").exists()
    assert {p.name for p in out.iterdir()} == {LOCK, "manifest.json", "results.csv", "results.nc",
                                               "results.parquet"}


def test_a_nested_run_folder_is_kept_and_a_foreign_folder_is_never_cleared(tmp_path):
    out = tmp_path / "D"
    assert run("simulate", MSC, "--out", out / "inner", "--no-plots").returncode == 0
    (out / "old.txt").write_text("old")
    (out / LOCK).write_text("{}")      # D itself was a run folder too
    assert run("simulate", MSC, "--out", out, "--no-plots").returncode == 0
    assert (out / "inner" / "results.csv").exists() and not (out / "old.txt").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    refused(run("simulate", MSC, "--out", mine), str(mine), "did not write")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_a_failed_population_generate_leaves_no_folder(tmp_path):
    pop = tmp_path / "p.toml"
    pop.write_text(POP.read_text().replace('op = ">="\nvalue = 15', 'op = ">="\nvalue = 79'))
    refused(run("population", "generate", pop, "--n", "2", "--out", tmp_path / "g"), "no candidate")
    assert not (tmp_path / "g").exists()


def test_output_beyond_the_limits_is_refused_before_any_work(tmp_path):
    fine = tmp_path / "fine.toml"
    fine.write_text(MSC.read_text().replace("output_step_days = 1", "output_step_days = 1e-6"))
    t0 = time.perf_counter()
    err = refused(run("simulate", fine, "--out", tmp_path / "o"), "output_step_days = 1e-06", "GB",
                  "--allow-large")
    assert "169,000,002 output times" in err and time.perf_counter() - t0 < 60
    assert not (tmp_path / "o").exists()
    long = tmp_path / "long.toml"
    long.write_text(MSC.read_text().replace("end_day = 169", "end_day = 1e6"))
    refused(run("simulate", long, "--out", tmp_path / "o"), "end_day = 1e+06", "2,738 years", "--allow-large")
    refused(run("population", "simulate", POP, "--n", "2", "--end-day", "1e6", "--step-days", "365",
                "--out", tmp_path / "o"), "--end-day = 1e+06", "--allow-large")
    refused(run("population", "simulate", POP, "--n", "1000000", "--end-day", "3650", "--step-days", "1",
                "--chunk", "100", "--out", tmp_path / "o"), "would write about", "--allow-large")
    assert not (tmp_path / "o").exists()
    # the same limits from Python
    with pytest.raises(RunTooLargeError, match="output_step_days"):
        simulate(load_scenario(fine))


def test_a_long_run_is_allowed_when_asked_and_csv_is_written_with_progress(tmp_path):
    long = tmp_path / "long.toml"
    long.write_text(MSC.read_text().replace("end_day = 169", "end_day = 40000")
                    .replace("output_step_days = 1", "output_step_days = 500"))
    p = run("simulate", long, "--out", tmp_path / "o", "--no-plots", "--allow-large")
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(tmp_path / "o" / "results.csv")
    assert table.loc[table["variable"] == "Alb", "time_day"].max() == 40000


def test_population_simulate_simulates_the_population_the_file_defines(tmp_path):
    """Criteria and targets apply: every simulated patient was accepted and selected, and a `population
    generate` folder of the same file is simulated forward to the same chunks."""
    gen, a, b = tmp_path / "gen", tmp_path / "a", tmp_path / "b"
    common = ["--end-day", "28", "--chunk", "10"]
    assert run("population", "simulate", POP, "--n", "40", "--out", a, *common).returncode == 0
    cand = pd.read_parquet(a / "patients.parquet")
    chunks = pd.concat(pd.read_parquet(f) for f in sorted((a / "chunks").glob("*.parquet")))
    simulated = set(chunks["patient_id"])
    assert simulated == set(cand.loc[cand["selected"], "patient_id"])
    assert cand.loc[cand["patient_id"].isin(simulated), "accepted"].all()
    assert (cand.loc[cand["patient_id"].isin(simulated), "ascites_grade"] >= 1).all()
    assert not cand["accepted"].all()    # the criteria did reject candidates that ids 0..n-1 would include
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["n_accepted"] == 40 and manifest["n_selected"] == len(simulated)
    assert run("population", "generate", POP, "--n", "40", "--out", gen).returncode == 0
    p = run("population", "simulate", POP, "--patients", gen, "--out", b, *common)
    assert p.returncode == 0, p.stderr
    for f in sorted((a / "chunks").glob("*.parquet")):
        assert pd.read_parquet(f).equals(pd.read_parquet(b / "chunks" / f.name))
    other = ROOT / "examples" / "populations" / "cirrhosis_natural_history.toml"
    refused(run("population", "simulate", other, "--patients", gen, "--out", tmp_path / "c", *common),
            "another population file")
    refused(run("population", "simulate", POP, "--out", tmp_path / "c", *common), "--n", "--patients")


def test_lock_file_records_the_command(tmp_path):
    out = tmp_path / "D"
    with run_folder(out, command="a test"):
        info = json.loads((out / LOCK).read_text())
        assert info["pid"] == os.getpid() and info["command"] == "a test" and info["state"] == "running"
    assert json.loads((out / LOCK).read_text())["state"] == "finished"
