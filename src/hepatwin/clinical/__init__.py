"""Clinical score layer: Child-Pugh, MELD, MELD-Na, MELD 3.0, ALBI, INR <-> PTA, lab units.

Pure functions of lab values; no model code. Research software, not clinical advice.
"""

from .coagulation import DEFAULT_REAGENT, ReagentConstants, inr_from_pta, pta_from_inr
from .scores import (
    albi,
    albi_grade,
    all_scores,
    child_pugh_class,
    child_pugh_points,
    meld,
    meld_3,
    meld_na,
)
from .units import (
    ALBUMIN_G_L_PER_G_DL,
    BILIRUBIN_UMOL_L_PER_MG_DL,
    CREATININE_UMOL_L_PER_MG_DL,
    to_g_dl_albumin,
    to_g_l_albumin,
    to_mg_dl_bilirubin,
    to_mg_dl_creatinine,
    to_umol_l_bilirubin,
    to_umol_l_creatinine,
)

__all__ = [
    "ALBUMIN_G_L_PER_G_DL",
    "BILIRUBIN_UMOL_L_PER_MG_DL",
    "CREATININE_UMOL_L_PER_MG_DL",
    "DEFAULT_REAGENT",
    "ReagentConstants",
    "albi",
    "albi_grade",
    "all_scores",
    "child_pugh_class",
    "child_pugh_points",
    "inr_from_pta",
    "meld",
    "meld_3",
    "meld_na",
    "pta_from_inr",
    "to_g_dl_albumin",
    "to_g_l_albumin",
    "to_mg_dl_bilirubin",
    "to_mg_dl_creatinine",
    "to_umol_l_bilirubin",
    "to_umol_l_creatinine",
]
