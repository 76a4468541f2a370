"""How far to trust a report: the validation rows that bear on what it shows, with their recorded result.

Reports do not run the validation (minutes); they show the result last recorded by `hepatwin validate`
(copied from docs/validation.md, which a test keeps in step with this file). The record holds only for
the calibration it was made with: if the calibration in use (model/calibration.toml or
$HEPATWIN_CALIBRATION) differs, no row is shown as passing and the report says to run `hepatwin validate`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: the last recorded `hepatwin validate --json` (docs/validation.md, "The table"): row id -> passed
RECORD = {
    "version": "0.1.0", "date": "2026-12-02", "replicates": 100, "cohort_n": 2000,
    # sha256 of src/hepatwin/model/calibration.toml when the table was recorded
    "calibration_sha256": "f9a6a64a50bbdb712b8d573e84ca0a2ef6e6b47e3ceeb21fbae0284618aa3cfe",
    "rows": {
        "qin_alb_d29_low": True,
        "qin_alb_d29_high": True,
        "qin_alb_d57_low": True,
        "qin_alb_d57_high": True,
        "qin_alb_d85_low": True,
        "qin_alb_d85_medium": True,
        "qin_alb_d85_high": True,
        "qin_alb_d169": False,
        "qin_pta_d29": True,
        "qin_pta_d57": True,
        "qin_pta_d85": True,
        "qin_pta_d113": True,
        "qin_pta_d141": True,
        "qin_pta_d169": True,
        "qin_il8_d29": True,
        "qin_il8_d85": True,
        "qin_il8_d169": False,
        "qin_ae_grade12": True,
        "qin_sae": True,
        "qin_surv6m_preprint_low": True,
        "qin_surv6m_preprint_medium": True,
        "qin_surv6m_preprint_high": True,
        "qin_surv6m_paper_low": True,
        "qin_surv6m_paper_medium": True,
        "qin_surv6m_paper_high": True,
        "qin_surv2y_paper_low": True,
        "qin_surv2y_paper_medium": True,
        "qin_surv2y_paper_high": True,
        "qin_dose_response": True,
        "zhang_alb_w48": False,
        "zhang_bil_w48": False,
        "zhang_meld_na_w48": False,
        "zhang_asc_w48": False,
        "zhang_cohort_alb_w48": False,
        "wiesner_meld_le9": True,
        "wiesner_meld_10_19": True,
        "wiesner_meld_20_29": True,
        "wiesner_meld_30_39": True,
        "wiesner_meld_ge40": True,
        "childpugh_A_1y": True,
        "childpugh_A_2y": True,
        "childpugh_B_1y": True,
        "childpugh_B_2y": False,
        "childpugh_C_1y": True,
        "childpugh_C_2y": False,
        "damico_stage1_annual": True,
        "damico_stage2_annual": True,
        "damico_stage3_annual": False,
        "damico_stage4_annual": True,
        "reverter_6w_mortality_after_bleed": False,
        "damico_perricone_decomp_5y": True,
        "canonic_aclf_28d_mortality": True,
        "canonic_aclf1_28d_mortality": True,
        "canonic_aclf3_28d_mortality": False,
        "weiss_aclf_90d_mortality": True,
        "meng_che_child_A": True,
        "meng_che_child_B": True,
        "meng_che_child_C": True,
        "damico_median_survival_decompensated": True,
        "huang_hcc_alcohol_1y": True,
        "huang_hcc_alcohol_5y": True,
        "huang_hcc_alcohol_10y": False,
    },
}

#: groups of rows: (key, what they check, row-id prefixes)
GROUPS = [
    ("msc_labs", "MSC effect on albumin, prothrombin activity and IL-8 over 6 months (reference trial, "
                 "Qin et al. 2025)", ("qin_alb_", "qin_pta_", "qin_il8_")),
    ("msc_durable", "MSC benefit still present after one year (controlled trial, Zhang et al. 2012, and its "
                    "companion cohort)", ("zhang_",)),
    ("adverse", "adverse events after infusion (reference trial)", ("qin_ae_", "qin_sae")),
    ("trial_survival", "survival per dose group at 6 months and 2 years, dose-response (reference trial)",
     ("qin_surv", "qin_dose_")),
    ("natural_history", "untreated survival: 3-month mortality by MELD band (Wiesner 2003), 1- and 2-year "
                        "survival by Child-Pugh class, annual mortality by clinical stage (D'Amico 2006), "
                        "6-week mortality after variceal bleeding (Reverter 2014)",
     ("wiesner_", "childpugh_", "damico_", "reverter_")),
    ("aclf", "mortality 28 and 90 days from the onset of ACLF in untreated cirrhosis (CANONIC; Weiss 2023)",
     ("canonic_", "weiss_")),
    ("labs", "serum cholinesterase by Child-Pugh class in untreated cirrhosis (Meng 2013)", ("meng_",)),
    ("hcc", "HCC cumulative incidence with death competing, alcohol-related cirrhosis (Huang 2023)", ("huang_",)),
]
#: report kind -> the groups bearing on what it shows
KINDS = {
    "trial": ("msc_labs", "msc_durable", "adverse", "trial_survival", "natural_history", "aclf", "labs", "hcc"),
    "compare": ("msc_labs", "msc_durable", "natural_history", "aclf", "labs", "hcc"),
}


def _calibration_sha256() -> str:
    from ..model.calibration import calibration_file

    path = calibration_file()          # the shipped file, or $HEPATWIN_CALIBRATION
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def _docs_link() -> str:
    # the page is in the source tree, not the installed package: link it when it is there
    docs = Path(__file__).resolve().parents[3] / "docs" / "validation.md"
    return docs.as_uri() if docs.is_file() else ""


def trust_section(kind: str) -> dict:
    """The template's "How far to trust this" data for a report of `kind` ("trial" or "compare"): per group
    the rows, how many passed when recorded (None when no record holds for this calibration), the failing
    and the fitted rows."""
    from ..calibrate.validation import FITTED

    valid = RECORD["calibration_sha256"] == _calibration_sha256()
    groups = []
    for key, what, prefixes in GROUPS:
        if key not in KINDS[kind]:
            continue
        ids = [i for i in RECORD["rows"] if i.startswith(prefixes)]
        rows = [{"id": i, "result": ("PASS" if RECORD["rows"][i] else "FAIL") if valid else "not checked",
                 "fitted": FITTED.get(i, "")} for i in ids]
        groups.append({"what": what, "rows": rows, "n": len(ids),
                       "passed": sum(RECORD["rows"][i] for i in ids) if valid else None,
                       "failed": [i for i in ids if valid and not RECORD["rows"][i]],
                       "fitted": sum(i in FITTED for i in ids)})
    return {"recorded": valid, "version": RECORD["version"], "date": RECORD["date"],
            "replicates": RECORD["replicates"], "cohort_n": RECORD["cohort_n"], "groups": groups,
            "docs_link": _docs_link()}
