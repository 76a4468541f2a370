"""Chunked population runs: bounded chunks on disk, float32, resume after interruption gives identical files."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np

from hepatwin.population import load_population
from hepatwin.population.large import read_chunks, run_chunks
from hepatwin.scenario import Regimen

POP = Path(__file__).resolve().parents[1] / "examples" / "populations" / "hbv_decompensated.toml"


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "chunks").glob("*.parquet"))}


def test_resume_gives_identical_chunks(tmp_path):
    cfg = load_population(POP)
    reg = [Regimen(dose=5e7, days=[1, 8, 15])]
    full = tmp_path / "full"
    run_chunks(cfg, 120, reg, full, end_day=90, step_days=7, chunk=40, float32=True)
    # an interrupted run: only the first chunk finished, plus a stale partial file
    part = tmp_path / "part"
    run_chunks(cfg, 40, reg, part, end_day=90, step_days=7, chunk=40, float32=True)
    (part / "chunks" / ".chunk_00001.parquet.x.partial").write_bytes(b"garbage")
    summary = run_chunks(cfg, 120, reg, part, end_day=90, step_days=7, chunk=40, float32=True)
    assert summary["chunks_skipped"] == 1
    assert _digests(part) == _digests(full)
    df = read_chunks(full)
    assert df["Alb"].dtype == np.float32 and df["patient_id"].nunique() == 120
    assert sorted(df["day"].unique()) == list(np.arange(0.0, 91.0, 7.0))
    assert (df[df.day == 0]["survival"] == 1.0).all()


def test_cli_population_simulate(tmp_path):
    scen = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
    p = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "simulate", str(POP), "--n", "30",
                        "--regimen", str(scen), "--end-day", "60", "--chunk", "20", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert len(list((tmp_path / "chunks").glob("chunk_*.parquet"))) == 2
    assert (tmp_path / "manifest.json").exists()
