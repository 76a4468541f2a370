"""The engine benchmark runs (tiny size) and prints the JSON keys other tools read."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_engine_bench_json_keys():
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "engine.py"), "--n", "40", "--scipy-subset", "2",
                        "--roadrunner-subset", "5", "--json"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(p.stdout)
    assert set(d["ms_per_patient"]) == {"scipy", "roadrunner", "hepatwin_1t", "hepatwin_all"}
    assert d["n"] == 40 and d["peak_rss_mb"] > 0 and d["failed_patients"] == 0
    assert d["max_rel_diff"] < 1e-2  # both at rtol 1e-6
    assert all(v > 0 for v in d["ms_per_patient"].values())
    acc = d["error_vs_tight_reference"]
    assert set(acc) == {"scipy", "roadrunner", "hepatwin"} and all(0 < v < 1e-2 for v in acc.values())
    # the run at the references' accuracy: as accurate as the better reference, and timed
    m = d["matched_accuracy"]
    assert m["reached"] and m["error"] <= m["target_error"] == min(acc["scipy"], acc["roadrunner"])
    assert m["rtol"] <= 1e-6 and m["ms_per_patient_all"] > 0 and m["failed_patients"] == 0
    assert m["hepatwin_all_vs_scipy"] == d["ms_per_patient"]["scipy"] / m["ms_per_patient_all"]
