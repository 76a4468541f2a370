"""The engine benchmark runs (tiny size) and prints the JSON keys other tools read."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_engine_bench_json_keys():
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "engine.py"), "--n", "40", "--scipy-subset", "2",
                        "--roadrunner-subset", "5", "--repeats", "2", "--json"],
                       capture_output=True, text=True, timeout=600)
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
    # warm, interleaved repeats: min and median per engine; the plain keys are the medians
    assert d["repeats"] == 2 and d["roadrunner_first_instance_ms_per_patient"] > 0
    lo, mid = d["ms_per_patient_min"], d["ms_per_patient_median"]
    assert set(lo) == set(mid) == set(d["ms_per_patient"]) and mid == d["ms_per_patient"]
    assert all(0 < lo[k] <= mid[k] for k in lo)
    assert set(d["ratios_min"]) == set(d["ratios"])
    assert 0 < m["ms_per_patient_all_min"] <= m["ms_per_patient_all_median"] == m["ms_per_patient_all"]
    assert m["hepatwin_all_vs_roadrunner_min"] == lo["roadrunner"] / m["ms_per_patient_all_min"]
