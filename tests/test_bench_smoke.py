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
    assert set(acc) == {"scipy", "hepatwin"} and 0 < acc["hepatwin"] < 1e-2 and 0 < acc["scipy"] < 1e-2
