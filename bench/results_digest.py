"""Bit digests of the results of every example input, to show a refactor changed no number.

    python bench/results_digest.py before.json      # on the old code
    python bench/results_digest.py after.json       # on the new code; then compare the two files

Covers each example scenario on both engines, each example population's baselines and chunked run, each
example trial (ADLB, ADTTE; 2 replicates) and the natural-history cohort of the validation.
"""
import glob
import hashlib
import json
import sys
import tempfile

import numpy as np
import pandas as pd

from hepatwin.calibrate.cohorts import simulate_cohort
from hepatwin.population import load_population
from hepatwin.population.generate import sample, simulate_baseline
from hepatwin.population.large import run_chunks
from hepatwin.scenario import load_scenario
from hepatwin.simulate import simulate
from hepatwin.trial import load_protocol, run_trial
from hepatwin.trial.tables import build_tables


def h(a) -> str:
    """First 16 hex digits of the SHA-256 of an array's bytes."""
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def main(path: str) -> None:
    """Write the digests to `path` (JSON)."""
    out = {}
    for f in sorted(glob.glob("examples/scenarios/*.toml")):
        s = load_scenario(f)
        for eng in ("scipy", "numba"):
            r = simulate(s, engine=eng)
            out[f"{f}:{eng}"] = h(np.stack([r.dataset[v].values for v in ("Alb", "PTA", "H", "Cx", "CH_death")]))
    for f in sorted(glob.glob("examples/populations/*.toml")):
        cfg = load_population(f)
        cand = sample(cfg, np.arange(40))
        b = simulate_baseline(cfg, cand)
        out[f"{f}:baseline"] = h(b.select_dtypes("number").to_numpy())
        with tempfile.TemporaryDirectory() as d:
            run_chunks(cfg.model_copy(update={"targets": {}}), 20, [], d + "/o", end_day=60, step_days=7, chunk=10)
            df = pd.concat(pd.read_parquet(p) for p in sorted(glob.glob(d + "/o/chunks/*.parquet")))
            out[f"{f}:chunks"] = h(df.select_dtypes("number").to_numpy())
    for f in sorted(glob.glob("examples/trials/*.toml")):
        proto, pop = load_protocol(f)
        res = run_trial(proto, pop, replicates=2)
        t = build_tables(res)
        out[f"{f}:adlb"] = h(t["adlb"].select_dtypes("number").to_numpy())
        out[f"{f}:adtte"] = h(t["adtte"].select_dtypes("number").to_numpy())
    run = simulate_cohort(load_population("examples/populations/cirrhosis_natural_history.toml"), 30)
    out["cohort"] = h(run.y) + h(run.params)
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print(len(out), "digests")


if __name__ == "__main__":
    main(sys.argv[1])
