"""What the command line says: validation readable at 80 columns with an exit code CI can gate on, the right
command for the wrong kind of file, Ctrl-C with a word, progress as log lines when nobody watches a bar,
usage lines, pictures named for what they are, and a tissue rerun that keeps no old snapshots."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import refused, run

ROOT = Path(__file__).resolve().parents[1]
MSC = ROOT / "examples" / "scenarios" / "hbv_decompensated_msc.toml"
POP = ROOT / "examples" / "populations" / "hbv_decompensated.toml"


def test_validate_fits_80_columns_and_strict_gates_on_failures():
    env = os.environ | {"COLUMNS": "80"}
    p = run("validate", "--replicates", "2", "--cohort-n", "20", env=env)
    assert p.returncode == 0, p.stderr        # failing rows are results, not a failed command
    lines = p.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert sum(line.startswith(("PASS ", "FAIL ")) for line in lines) >= 40
    assert any(line.startswith("FAIL ") for line in lines)    # 2 replicates and 20 patients: some rows fail
    strict = run("validate", "--replicates", "2", "--cohort-n", "20", "--strict", "--json", env=env)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr


@pytest.mark.parametrize("path, words", [
    (ROOT / "examples" / "tissue" / "hbv_msc_small.toml", ["tissue-run file", "hepatwin tissue run"]),
    (ROOT / "examples" / "trials" / "zhongnan2024.toml", ["trial protocol", "hepatwin trial run"]),
    (POP, ["population file", "hepatwin population generate"]),
])
def test_another_kind_of_file_names_the_command_that_reads_it(tmp_path, path, words):
    refused(run("simulate", path, "--out", tmp_path / "o"), *words)
    assert not (tmp_path / "o").exists()


def test_a_byte_order_mark_is_not_part_of_the_toml(tmp_path):
    f = tmp_path / "bom.toml"
    f.write_bytes(b"\xef\xbb\xbf" + MSC.read_bytes())
    p = run("simulate", f, "--out", tmp_path / "o", "--no-plots")
    assert p.returncode == 0, p.stderr


def test_ctrl_c_says_what_is_kept_and_exits_130(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "hepatwin.cli", "population", "simulate", str(POP), "--n", "50000",
                             "--end-day", "60", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(6)
    assert proc.poll() is None, "finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert not list(out.rglob("*.partial")) if out.exists() else True


def test_progress_is_logged_with_counts_when_stderr_is_not_a_terminal(tmp_path):
    # no quiet time: on a fast machine screening ends within the default 2 s and would not be logged
    env = os.environ | {"HEPATWIN_PROGRESS_QUIET_S": "0"}
    p = run("population", "simulate", POP, "--n", "3000", "--end-day", "14", "--chunk", "100", "--out", tmp_path / "o",
            env=env)
    assert p.returncode == 0, p.stderr
    logged = [line for line in p.stderr.splitlines() if line.startswith("[")]
    assert any("screening" in line and "/3,000" in line for line in logged), p.stderr
    simulating = [line for line in logged if "simulating" in line]
    done, total = simulating[-1].split()[-1].split("/")
    assert len(simulating) >= 3 and done == total, p.stderr
    # a quick refusal prints its message alone (no progress line before it)
    refused(run("population", "simulate", POP, "--n", "2", "--end-day", "1e6", "--step-days", "365",
                "--out", tmp_path / "r"), "--end-day")


def test_usage_lines_name_arguments_in_capitals():
    p = run("simulate")
    assert p.returncode == 2 and "SCENARIO" in p.stderr and "{scenario}" not in p.stderr


@pytest.fixture(scope="module")
def tiny_tissue(tmp_path_factory):
    base = tmp_path_factory.mktemp("tissue")
    cfg = base / "tiny.toml"
    cfg.write_text(f'[tissue]\nscenario = "{MSC}"\nsize = 48\nframes = 2\nhistory_dt_days = 30\n'
                   "snapshot_days = [0, 100]\n")
    out = base / "run"
    p = run("tissue", "run", cfg, "--out", out)
    assert p.returncode == 0, p.stderr
    return cfg, out


def test_render_refuses_a_lying_file_name_and_a_region_beyond_the_field(tiny_tissue, tmp_path):
    _, out = tiny_tissue
    refused(run("tissue", "render", out, "--day", "0", "--out", tmp_path / "x.jpg"), "x.jpg", ".png")
    refused(run("tissue", "render", out, "--day", "0", "--region", "0:100,0:20", "--out", tmp_path / "x.png"),
            "0:100,0:20", "48 x 48")
    assert not list(tmp_path.iterdir())
    p = run("tissue", "render", out, "--day", "0", "--region", "0:48,0:20", "--out", tmp_path / "x.png")
    assert p.returncode == 0 and (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG"


def test_a_tissue_rerun_keeps_no_snapshot_of_the_earlier_run(tiny_tissue):
    cfg, out = tiny_tissue
    before = {p.name for p in (out / "snapshots").glob("*.png")}
    assert any("p000100" in n for n in before)
    cfg.write_text(cfg.read_text().replace("snapshot_days = [0, 100]", "snapshot_days = [0]"))
    p = run("tissue", "run", cfg, "--out", out)
    assert p.returncode == 0, p.stderr
    after = {p.name for p in (out / "snapshots").glob("*.png")}
    assert after and after < before and not any("p000100" in n for n in after)


def test_a_tissue_run_beyond_the_memory_limit_is_refused_before_it_starts(tmp_path):
    cfg = tmp_path / "big.toml"
    cfg.write_text(f'[tissue]\nscenario = "{MSC}"\nsize = 8192\nframes = 60\n')
    t0 = time.perf_counter()
    refused(run("tissue", "run", cfg, "--out", tmp_path / "o"), "67,108,864 sites", "GB", "--allow-large")
    assert time.perf_counter() - t0 < 120 and not (tmp_path / "o").exists()
