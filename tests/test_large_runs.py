"""Chunked population runs: bounded chunks on disk, float32, resume after interruption gives identical files."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hepatwin.cli import UserError, app
from hepatwin.io.run_folder import ForeignFolderError
from hepatwin.population import load_population
from hepatwin.population.large import ResumeError, read_chunks, run_chunks
from hepatwin.scenario import Regimen

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
POP = EXAMPLES / "populations" / "hbv_decompensated.toml"
OTHER_POP = EXAMPLES / "populations" / "cirrhosis_natural_history.toml"


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "chunks").glob("*.parquet"))}


def test_resume_gives_identical_chunks(tmp_path):
    cfg = load_population(POP)
    reg = [Regimen(dose=5e7, days=[1, 8, 15])]
    full = tmp_path / "full"
    run_chunks(cfg, 120, reg, full, end_day=90, step_days=7, chunk=40, float32=True)
    # an interrupted run: only the first chunk finished, plus a stale partial file
    part = tmp_path / "part"

    def interrupt(stage: str, done: int, total: int) -> None:
        if stage == "simulating":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_chunks(cfg, 120, reg, part, end_day=90, step_days=7, chunk=40, float32=True, progress=interrupt)
    assert len(_digests(part)) == 1
    (part / "chunks" / ".chunk_00001.parquet.x.partial").write_bytes(b"garbage")
    summary = run_chunks(cfg, 120, reg, part, end_day=90, step_days=7, chunk=40, float32=True)
    assert summary["chunks_skipped"] == 1
    assert _digests(part) == _digests(full)
    df = read_chunks(full)
    # the file's criteria accept 120 candidates; its albumin target selects fewer of them
    assert summary["n_accepted"] == 120 and 10 < summary["n_selected"] < 120
    assert df["Alb"].dtype == np.float32 and df["patient_id"].nunique() == summary["n_selected"]
    assert sorted(df["day"].unique()) == list(np.arange(0.0, 91.0, 7.0))
    assert (df[df.day == 0]["survival"] == 1.0).all()


def test_cli_population_simulate(tmp_path):
    scen = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
    p = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "simulate", str(POP), "--n", "30",
                        "--regimen", str(scen), "--end-day", "60", "--chunk", "20", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["n_accepted"] == 30 and "selected to the targets" in p.stdout
    assert len(list((tmp_path / "chunks").glob("chunk_*.parquet"))) == -(-manifest["n_selected"] // 20)


def _small_run(out: Path, **over) -> dict:
    """Two patients to day 14 in one chunk; `over` changes one setting (or the population config). The
    targets are left out: selecting to them needs more than two accepted patients."""
    args = {"cfg": load_population(POP).model_copy(update={"targets": {}}), "n": 2, "regimens": [],
            "end_day": 14.0, "step_days": 7.0, "chunk": 2, "float32": False} | over
    cfg, n, regimens = args.pop("cfg"), args.pop("n"), args.pop("regimens")
    return run_chunks(cfg, n, regimens, out, **args)


@pytest.mark.parametrize("change, words", [
    ({"cfg": load_population(OTHER_POP)}, ["seed was 2024, now 7", "population config name was"]),
    ({"cfg": load_population(POP).model_copy(update={"seed": 5, "targets": {}})}, ["seed was 2024, now 5"]),
    ({"n": 4}, ["n was 2, now 4"]),
    ({"chunk": 1}, ["chunk was 2, now 1"]),
    ({"end_day": 28.0}, ["end_day was 14.0, now 28.0"]),
    ({"step_days": 1.0}, ["step_days was 7.0, now 1.0"]),
    ({"regimens": [Regimen(dose=5e7, days=[1])]}, ["regimens was [], now"]),
    ({"float32": True}, ["float32 was False, now True"]),
])
def test_resume_with_other_settings_is_refused_and_changes_nothing(tmp_path, change, words):
    _small_run(tmp_path)
    (tmp_path / "manifest.json").write_text("{}")  # a finished run's manifest must survive a refused rerun
    before = _digests(tmp_path)
    with pytest.raises(ResumeError) as exc:
        _small_run(tmp_path, **change)
    msg = str(exc.value)
    for w in [*words, "different run", "new --out folder"]:
        assert w in msg, msg
    assert _digests(tmp_path) == before and (tmp_path / "manifest.json").exists()


def test_settings_are_recorded_and_a_folder_without_chunks_starts_afresh(tmp_path):
    # e.g. interrupted before the first chunk was written: nothing to mix, so other settings are fine
    _small_run(tmp_path)
    for f in (tmp_path / "chunks").glob("chunk_*.parquet"):
        f.unlink()
    _small_run(tmp_path, end_day=21.0)
    settings = json.loads((tmp_path / "run_settings.json").read_text())
    assert settings["end_day"] == 21.0 and settings["n"] == 2 and settings["seed"] == 2024
    assert len(_digests(tmp_path)) == 1


def test_chunks_without_recorded_settings_are_not_resumed(tmp_path):
    (tmp_path / "chunks").mkdir()
    (tmp_path / "chunks" / "chunk_00000.parquet").write_bytes(b"from an unknown run")
    (tmp_path / ".hepatwin.lock").write_text("{}")
    with pytest.raises(ResumeError, match=r"run_settings\.json"):
        _small_run(tmp_path)   # a hepatwin folder (it has a lock file) whose chunks cannot be matched
    (tmp_path / ".hepatwin.lock").unlink()
    with pytest.raises(ForeignFolderError, match="did not write"):
        _small_run(tmp_path)   # a folder hepatwin did not write at all
    assert (tmp_path / "chunks" / "chunk_00000.parquet").read_bytes() == b"from an unknown run"


def test_cli_resume_of_a_different_population_exits_2(tmp_path):
    out = tmp_path / "ps"
    common = ["--chunk", "2", "--out", str(out)]
    first = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "simulate", str(POP), "--n", "20",
                            "--end-day", "30", *common], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-m", "hepatwin.cli", "population", "simulate", str(OTHER_POP),
                             "--n", "4", "--end-day", "60", *common], capture_output=True, text=True)
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert "error:" in second.stderr and "seed was 2024, now 7" in second.stderr and "end_day was 30.0, now 60.0" \
        in second.stderr
    assert len(_digests(out)) == json.loads((out / "manifest.json").read_text())["chunks"] > 1


@pytest.mark.parametrize("args, words", [
    (["--end-day", "inf"], ["--end-day inf", "finite"]),
    (["--end-day", "nan"], ["--end-day nan", "finite"]),
    (["--step-days", "nan"], ["--step-days nan", "finite"]),
    (["--end-day", "1e300"], ["--end-day 1e+300", "output times"]),
    (["--regimen", str(EXAMPLES / "scenarios" / "hbv_decompensated_untreated.toml")], ["no [[regimen]]"]),
    (["--regimen", str(EXAMPLES / "scenarios" / "hbv_decompensated_msc.toml"), "--end-day", "10"],
     ["[15.0]", "after --end-day 10"]),
])
def test_cli_non_finite_days_are_refused(tmp_path, args, words):
    res = CliRunner().invoke(app, ["population", "simulate", str(POP), "--n", "2", "--out", str(tmp_path / "o"),
                                   *args], standalone_mode=False)
    assert isinstance(res.exception, UserError), res.output
    for w in words:
        assert w in str(res.exception), res.exception
    assert not (tmp_path / "o").exists()
