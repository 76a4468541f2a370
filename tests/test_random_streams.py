"""Random streams by name (issue 19, item 7): every purpose draws from its own stream derived from the root
seed by its name, so adding a new draw purpose leaves every existing draw unchanged."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hepatwin.trial.runner as runner
from hepatwin.streams import seed_sequence, stable_hash, stream
from hepatwin.trial import load_protocol, run_trial
from hepatwin.trial.protocol import LAB_VARIABLES

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "examples" / "trials" / "zhongnan2024.toml"


# ----------------------------------------------------------------------------- the streams module


def _draw(names, seed=7, keys=(24, 3, 5)):
    """Each name's 5 normals, drawn in the order given (interleaved: one value per name per round)."""
    gens = {n: stream(seed, *keys, name=n) for n in names}
    out = {n: [] for n in names}
    for _ in range(5):
        for n in names:
            out[n].append(gens[n].standard_normal())
    return {n: np.array(v) for n, v in out.items()}


def test_a_stream_does_not_depend_on_which_other_streams_exist_or_their_order():
    ab = _draw(["A", "B"])
    acb = _draw(["A", "C", "B"])
    ba = _draw(["B", "A"])
    for name in ("A", "B"):
        np.testing.assert_array_equal(ab[name], acb[name])
        np.testing.assert_array_equal(ab[name], ba[name])
    # different names, keys or seeds are different streams
    assert not np.array_equal(acb["A"], acb["B"]) and not np.array_equal(acb["C"], acb["A"])
    assert not np.array_equal(_draw(["A"], keys=(24, 3, 6))["A"], ab["A"])
    assert not np.array_equal(_draw(["A"], seed=8)["A"], ab["A"])


def test_values_come_in_order_within_a_stream():
    # the k-th value does not depend on how many are drawn (a subject with fewer visits or infusions)
    long = stream(3, 1, 2, name="assay noise: Alb").standard_normal(7)
    np.testing.assert_array_equal(stream(3, 1, 2, name="assay noise: Alb").standard_normal(4), long[:4])
    u = stream(3, 1, 2, name="adverse event: x").random(6)
    np.testing.assert_array_equal(stream(3, 1, 2, name="adverse event: x").random(3), u[:3])


def test_the_name_enters_through_sha256_not_the_salted_builtin_hash():
    digest = hashlib.sha256(b"event threshold: death").digest()
    h = int.from_bytes(digest[:8], "big")
    assert stable_hash("event threshold: death") == h
    assert seed_sequence(2024, 24, 0, 3, name="event threshold: death").spawn_key == (24, 0, 3, h >> 32,
                                                                                      h & 0xFFFFFFFF)
    # the same numbers in processes with different string-hash salts
    code = ("from hepatwin.streams import stream; "
            "print(stream(2024, 24, 0, 3, name='event threshold: death').bit_generator.random_raw(3).tolist())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": s}).stdout for s in ("1", "2")}
    here = str(stream(2024, 24, 0, 3, name="event threshold: death").bit_generator.random_raw(3).tolist())
    assert outs == {here + "\n"}


@pytest.mark.parametrize("bad", [dict(seed=-1, keys=(1,), name="a"), dict(seed=1, keys=(-1,), name="a"),
                                 dict(seed=1, keys=(2**32,), name="a"), dict(seed=1, keys=(1,), name=""),
                                 dict(seed=1.5, keys=(1,), name="a")])
def test_bad_seeds_keys_and_names_are_refused(bad):
    with pytest.raises(ValueError):
        stream(bad["seed"], *bad["keys"], name=bad["name"])


# ----------------------------------------------------------------------------- through the trial runner


def _run(monkeypatch, extra: bool):
    """The reduced reference trial (3 per arm, 2 replicates) and every subject's draws; with `extra`, the runner
    draws one more event threshold, one more lab's assay noise and one more infusion adverse event."""
    proto, pop = load_protocol(PROTOCOL)
    real = runner._subject_draws
    seen = {}

    def spy(protocol, seed, n_total, r, j, **kw):
        if extra:
            kw = {"events": (*runner.EVENT_THRESHOLDS, "variceal bleeding"), "labs": (*LAB_VARIABLES, "AFP"),
                  "aes": (*runner.INFUSION_AES, "infusion site reaction")}
        seen[r, j] = d = real(protocol, seed, n_total, r, j, **kw)
        return d

    monkeypatch.setattr(runner, "_subject_draws", spy)
    res = run_trial(proto, pop, replicates=2, n_per_arm=3)
    monkeypatch.setattr(runner, "_subject_draws", real)
    return proto, res, seen


@pytest.fixture(scope="module")
def runs():
    proto, pop = load_protocol(PROTOCOL)
    plain = run_trial(proto, pop, replicates=2, n_per_arm=3)          # no spy
    mp = pytest.MonkeyPatch()
    try:
        _, base, base_draws = _run(mp, extra=False)
        _, more, more_draws = _run(mp, extra=True)
    finally:
        mp.undo()
    return proto, plain, base, base_draws, more, more_draws


def test_a_new_draw_purpose_leaves_every_existing_draw_unchanged(runs):
    proto, _, _, base_draws, _, more_draws = runs
    # the protocol exercises every purpose: windows, dropout, infusions
    assert proto.visits.window_days > 0 and proto.dropout_per_year.value > 0
    assert set(base_draws) == set(more_draws) and len(base_draws) == 2 * 9
    for key, b in base_draws.items():
        m = more_draws[key]
        np.testing.assert_array_equal(b.visit_offsets, m.visit_offsets)
        assert b.t_dropout == m.t_dropout
        assert b.thresholds == {ev: m.thresholds[ev] for ev in runner.EVENT_THRESHOLDS}
        for lab in LAB_VARIABLES:
            np.testing.assert_array_equal(b.noise[lab], m.noise[lab])
        for ae in runner.INFUSION_AES:
            np.testing.assert_array_equal(b.u_ae[ae], m.u_ae[ae])
        # the new draws are there, and are not a copy of an existing stream
        assert "variceal bleeding" in m.thresholds and m.thresholds["variceal bleeding"] not in b.thresholds.values()
        assert not any(np.array_equal(m.noise["AFP"], v) for v in b.noise.values())
        assert m.u_ae["infusion site reaction"].shape == b.u_ae["grade 1-2 infusion reaction"].shape == (3,)
    # distinct purposes of one subject are distinct streams
    d = base_draws[0, 0]
    assert len({float(v[1]) for v in d.noise.values()}) == len(LAB_VARIABLES)
    assert len(set(d.thresholds.values())) == len(runner.EVENT_THRESHOLDS)


def test_a_new_draw_purpose_leaves_every_trial_table_unchanged(runs):
    _, _, base, _, more, _ = runs
    for name in ("subjects", "labs", "adverse_events", "exposure", "consort", "screening"):
        pd.testing.assert_frame_equal(getattr(base, name), getattr(more, name), obj=name)
    assert len(base.labs) and base.adverse_events["related"].any()


def test_same_seed_same_results(runs):
    _, plain, base, _, _, _ = runs
    for name in ("subjects", "labs", "adverse_events", "exposure", "consort", "screening"):
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(base, name), obj=name)
