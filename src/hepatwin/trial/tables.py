"""Per-subject tables shaped like CDISC SDTM (DM, EX, LB, AE, DS) and ADaM (ADSL, ADLB, ADTTE).

Study days replace dates (a virtual trial has no calendar); variable names follow the CDISC
conventions where one exists. ADTTE uses the ADaM convention CNSR = 0 for an event, 1 for censored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..io.atomic import atomic_path
from ..model.catalog import EVENTS, LABS, SCORE_VARIABLES, SCORES
from .protocol import Protocol
from .runner import DISPOSITION_LABELS, DISPOSITIONS, TrialResult

#: LB test codes, names and units of the observed variables, and the time-to-event parameters (model catalog)
LB_TESTS = {**{v: (lab.code, lab.label, lab.unit) for v, lab in LABS.items()},
            **{v: (SCORES[v].code, SCORES[v].label, SCORES[v].unit) for v in SCORE_VARIABLES}}
TTE_PARAMS = {e.name: (e.code, e.label) for e in EVENTS.values()}


def _studyid(protocol: Protocol) -> str:
    return "".join(ch for ch in protocol.name.upper() if ch.isalnum())[:16] or "HEPATWIN"


def _trtn(protocol: Protocol) -> dict[str, int]:
    return {a.name: k + 1 for k, a in enumerate(protocol.arm)}


def sdtm_dm(res: TrialResult) -> pd.DataFrame:
    """Demographics: one row per enrolled subject (ARM in words, ARMCD the arm's name in capitals)."""
    s = res.subjects
    labels = {a.name: a.display for a in res.protocol.arm}
    return pd.DataFrame({
        "STUDYID": _studyid(res.protocol), "DOMAIN": "DM", "REPLICATE": s["replicate"], "USUBJID": s["usubjid"],
        "SUBJID": s["subject_index"] + 1, "AGE": s["age"].round(1), "AGEU": "YEARS", "SEX": s["sex"],
        "ARMCD": s["arm"].str.upper(), "ARM": s["arm"].map(labels), "ACTARMCD": s["arm"].str.upper(),
        "ACTARM": s["arm"].map(labels),
        "RFXSTDY": 1, "DTHFL": np.where(s["died_in_follow_up"], "Y", ""), "DTHDY": s["death_day"],
        "WEIGHTBL": s["weight_kg"].round(1), "VPATID": s["patient_id"],
    })


def sdtm_ex(res: TrialResult) -> pd.DataFrame:
    """Exposure: one row per infusion given."""
    e = res.exposure
    out = pd.DataFrame({
        "STUDYID": _studyid(res.protocol), "DOMAIN": "EX", "REPLICATE": e["replicate"], "USUBJID": e["usubjid"],
        "EXTRT": e["treatment"], "EXDOSE": e["dose_cells"], "EXDOSU": e["dose_unit"],
        "EXROUTE": e["route"].str.upper().str.replace("_", " "), "EXSTDY": e["day"], "EXVOLML": e["volume_ml"],
    })
    out.insert(4, "EXSEQ", out.groupby(["REPLICATE", "USUBJID"]).cumcount() + 1)
    return out


def sdtm_lb(res: TrialResult) -> pd.DataFrame:
    """Laboratory results as observed (with assay noise) at attended visits."""
    lab = res.labs
    codes = lab["variable"].map(lambda v: LB_TESTS[v][0])
    out = pd.DataFrame({
        "STUDYID": _studyid(res.protocol), "DOMAIN": "LB", "REPLICATE": lab["replicate"], "USUBJID": lab["usubjid"],
        "LBTESTCD": codes, "LBTEST": lab["variable"].map(lambda v: LB_TESTS[v][1]),
        "LBSTRESN": lab["value"], "LBSTRESU": lab["variable"].map(lambda v: LB_TESTS[v][2]),
        "VISITNUM": lab["visit"], "VISIT": "DAY " + lab["visit_day"].astype(int).astype(str),
        "VISITDY": lab["visit_day"], "LBDY": lab["day"], "LBBLFL": np.where(lab["visit"] == 0, "Y", ""),
        "LBTRUE": lab["true_value"],
    })
    out.insert(4, "LBSEQ", out.groupby(["REPLICATE", "USUBJID"]).cumcount() + 1)
    return out


def sdtm_ae(res: TrialResult) -> pd.DataFrame:
    """Adverse events with CTCAE-like grade, seriousness and relation to the infusion."""
    a = res.adverse_events
    out = pd.DataFrame({
        "STUDYID": _studyid(res.protocol), "DOMAIN": "AE", "REPLICATE": a["replicate"], "USUBJID": a["usubjid"],
        "AETERM": a["term"], "AETOXGR": a["grade"], "AESER": np.where(a["serious"], "Y", "N"),
        "AEREL": np.where(a["related"], "RELATED", "NOT RELATED"), "AESTDY": a["day"],
        "AEOUT": np.where(a["grade"] == 5, "FATAL", "RECOVERED/RESOLVED"),
    })
    out.insert(4, "AESEQ", out.groupby(["REPLICATE", "USUBJID"]).cumcount() + 1)
    return out


def sdtm_ds(res: TrialResult) -> pd.DataFrame:
    """Disposition: randomisation, then how the subject left the study by the end of follow-up.

    The end-of-study record is the subject's `disposition` (the one the CONSORT counts are made of),
    so the DS counts and the CONSORT counts are the same numbers.
    """
    s = res.subjects
    decod = {key: term for key, _, term in DISPOSITIONS.values()}
    first = pd.DataFrame({"REPLICATE": s["replicate"], "USUBJID": s["usubjid"], "DSDECOD": "RANDOMIZED",
                          "DSTERM": "Randomised", "DSSTDY": 0.0, "EPOCH": "SCREENING", "DISPOSITION": ""})
    last = pd.DataFrame({"REPLICATE": s["replicate"], "USUBJID": s["usubjid"], "DSDECOD": s["disposition"].map(decod),
                         "DSTERM": s["disposition"].map(DISPOSITION_LABELS), "DSSTDY": s["end_day"],
                         "EPOCH": "FOLLOW-UP", "DISPOSITION": s["disposition"]})
    out = pd.concat([first, last]).sort_values(["REPLICATE", "USUBJID", "DSSTDY"], kind="stable")
    out.insert(0, "STUDYID", _studyid(res.protocol))
    out.insert(1, "DOMAIN", "DS")
    out.insert(4, "DSSEQ", out.groupby(["REPLICATE", "USUBJID"]).cumcount() + 1)
    return out.reset_index(drop=True)


def adam_adsl(res: TrialResult) -> pd.DataFrame:
    """Subject-level analysis dataset with baseline labs and scores."""
    s = res.subjects
    base = (res.labs[res.labs["visit"] == 0].pivot_table(index=["replicate", "usubjid"], columns="variable",
                                                        values="value"))
    trtn = _trtn(res.protocol)
    out = pd.DataFrame({
        "STUDYID": _studyid(res.protocol), "REPLICATE": s["replicate"], "USUBJID": s["usubjid"],
        "TRT01P": s["arm"], "TRT01PN": s["arm"].map(trtn), "TRT01A": s["arm"], "AGE": s["age"], "SEX": s["sex"],
        "WEIGHTBL": s["weight_kg"], "ITTFL": "Y", "SAFFL": "Y",
        "COMPLFL": np.where(s["completed"], "Y", "N"), "DTHFL": np.where(s["died_in_follow_up"], "Y", "N"),
        "EOSSTT": np.where(s["completed"], "COMPLETED", "DISCONTINUED"),
        "DCSREAS": s["end_reason"].where(~s["completed"], ""), "EOSDY": s["end_day"],
    })
    for var, (code, _, _) in LB_TESTS.items():
        if var in base:
            out[f"{code}BL"] = base[var].reindex(list(zip(s["replicate"], s["usubjid"], strict=True))).to_numpy()
    return out


def adam_adlb(res: TrialResult) -> pd.DataFrame:
    """Lab analysis dataset: AVAL, BASE, CHG, PCHG per subject, parameter and visit."""
    lab = res.labs
    base = lab[lab["visit"] == 0].set_index(["replicate", "usubjid", "variable"])["value"]
    key = pd.MultiIndex.from_arrays([lab["replicate"], lab["usubjid"], lab["variable"]])
    b = base.reindex(key).to_numpy()
    out = pd.DataFrame({
        "REPLICATE": lab["replicate"].to_numpy(), "USUBJID": lab["usubjid"].to_numpy(),
        "TRTP": lab["arm"].to_numpy(), "PARAMCD": lab["variable"].map(lambda v: LB_TESTS[v][0]).to_numpy(),
        "PARAM": lab["variable"].to_numpy(), "AVISITN": lab["visit"].to_numpy(),
        "AVISIT": lab["visit_day"].to_numpy(), "ADY": lab["day"].to_numpy(), "AVAL": lab["value"].to_numpy(),
        "BASE": b, "ABLFL": np.where(lab["visit"] == 0, "Y", ""),
    })
    out["CHG"] = out["AVAL"] - out["BASE"]
    out["PCHG"] = 100.0 * out["CHG"] / out["BASE"]
    return out


def adam_adtte(res: TrialResult) -> pd.DataFrame:
    """Time-to-event dataset: one row per subject and event type (CNSR 0 = event, 1 = censored)."""
    s = res.subjects
    frames = []
    for event, (code, label) in TTE_PARAMS.items():
        parts = EVENTS[event].of or (event,)
        # the first of the events (one event of its own, or a composite's), and which it was
        days = np.column_stack([s[f"{p}_day"].to_numpy(dtype=float) for p in parts])
        has = np.isfinite(days).any(axis=1)
        first = np.argmin(np.where(np.isfinite(days), days, np.inf), axis=1)
        day = days[np.arange(len(s)), first]
        aval = np.where(has, day, s["end_day"])
        frames.append(pd.DataFrame({
            "STUDYID": _studyid(res.protocol), "REPLICATE": s["replicate"], "USUBJID": s["usubjid"],
            "TRTP": s["arm"], "PARAMCD": code, "PARAM": label, "EVENT": event, "AVAL": aval,
            "CNSR": np.where(has, 0, 1), "EVNTDESC": np.where(has, np.asarray(parts, dtype=object)[first], ""),
            "CNSDTDSC": np.where(has, "", s["end_reason"]),
        }))
    return pd.concat(frames, ignore_index=True)


TABLES = {"dm": sdtm_dm, "ex": sdtm_ex, "lb": sdtm_lb, "ae": sdtm_ae, "ds": sdtm_ds,
          "adsl": adam_adsl, "adlb": adam_adlb, "adtte": adam_adtte}


def build_tables(res: TrialResult) -> dict[str, pd.DataFrame]:
    """Every SDTM/ADaM-like table of a trial result."""
    return {name: fn(res) for name, fn in TABLES.items()}


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Each table as Parquet and CSV under `out_dir/tables`, written atomically."""
    root = Path(out_dir) / "tables"
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in tables.items():
        for ext in ("parquet", "csv"):
            path = root / f"{name}.{ext}"
            with atomic_path(path) as tmp:
                if ext == "parquet":
                    df.to_parquet(tmp, index=False)
                else:
                    df.to_csv(tmp, index=False)
            paths.append(path)
    return paths


def consort_table(res: TrialResult) -> pd.DataFrame:
    """CONSORT disposition for people: one row per arm (its label) and one for all arms, columns in words.

    The numbers are those of `res.disposition` (and so of the DS table); each row's disposition
    columns add up to its "Randomised". A column that is zero in every row is left out only for
    solver failures (an outcome of the software, not of the trial).
    """
    d = res.disposition
    keys = [k for k in DISPOSITION_LABELS if k != "solver_failure" or d[k].any()]
    cols = ["randomised", *keys]
    total = d.groupby("replicate", sort=True)[cols].sum().reset_index().assign(label="All arms")
    rows = pd.concat([d, total], ignore_index=True)
    order = {lab: i for i, lab in enumerate([*(a.display for a in res.protocol.arm), "All arms"])}
    rows = rows.sort_values(["replicate", "label"], key=lambda c: c.map(order) if c.name == "label" else c,
                            kind="stable")
    out = pd.DataFrame({"Arm": rows["label"].to_numpy(), "Randomised": rows["randomised"].to_numpy()})
    for k in keys:
        out[DISPOSITION_LABELS[k]] = rows[k].to_numpy()
    if rows["replicate"].nunique() > 1:
        out.insert(0, "Replicate", rows["replicate"].to_numpy())
    return out
