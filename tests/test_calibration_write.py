"""`hepatwin calibrate --write FILE` writes the file the user names, never the shipped fit unless named, and
keeps a stored fit that is better or more thorough unless forced; HEPATWIN_CALIBRATION selects the file a run
uses."""

import subprocess
import sys
import tomllib
from pathlib import Path

from cli_helpers import run
from hepatwin.model.calibration import CALIBRATION_FILE

ROOT = Path(__file__).resolve().parents[1]


def test_a_quick_fit_does_not_replace_a_thorough_one_unless_forced(tmp_path):
    shipped = CALIBRATION_FILE.read_bytes()
    target = tmp_path / "mine.toml"
    target.write_bytes(shipped)
    p = run("calibrate", "--maxiter", "1", "--replicates", "2", "--write", target)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "replicates 2 is less than the stored fit's 40" in p.stderr and "nothing was written" in p.stderr
    assert target.read_bytes() == shipped and not target.with_name("mine.toml.bak").exists()
    p = run("calibrate", "--maxiter", "1", "--replicates", "2", "--write", target, "--force")
    assert p.returncode == 0, p.stderr
    assert "HEPATWIN_CALIBRATION=" in p.stdout
    new = tomllib.loads(target.read_text())["parameters"]
    assert new["EC50_S"]["replicates"] == 2 and "--write" in new["EC50_S"]["command"]
    assert "h_ref" in new                                    # entries of other targets are kept
    assert target.with_name("mine.toml.bak").read_bytes() == shipped
    assert CALIBRATION_FILE.read_bytes() == shipped          # the shipped fit was never touched


def test_hepatwin_calibration_selects_the_file_a_run_uses(tmp_path):
    data = CALIBRATION_FILE.read_text()
    stored = tomllib.loads(data)["parameters"]["EC50_S"]["value"]
    other = tmp_path / "other.toml"
    other.write_text(data.replace(f"value = {stored!r}", "value = 0.05", 1))
    code = "from hepatwin.model import build_model; print(build_model().parameters['EC50_S'].value)"
    import os

    env = os.environ | {"HEPATWIN_CALIBRATION": str(other)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert float(out.stdout) == 0.05, out.stderr
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert float(out.stdout) == stored
