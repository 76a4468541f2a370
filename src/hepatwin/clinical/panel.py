"""Every clinical score of a set of labs in the model's units, in one call: what simulated patients
(results), screened cohorts and trial visits (from the observed, noisy labs) all report.

Labs: bilirubin and creatinine in umol/L, albumin in g/L, INR, sodium in mmol/L, AST and ALT in U/L,
platelets and white cells in 10^9/L; ascites and encephalopathy as grades; age in years; the vital signs of the
CLIF-C OF score, mean arterial pressure (mmHg) and PaO2/FiO2 (mmHg), measured without assay error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .aclf import clif_c_aclf, clif_c_ad, clif_c_ofs
from .noninvasive import apri, fib4
from .scores import albi, albi_grade, child_pugh_class, child_pugh_points, meld, meld_3, meld_na
from .units import ALBUMIN_G_L_PER_G_DL, BILIRUBIN_UMOL_L_PER_MG_DL, CREATININE_UMOL_L_PER_MG_DL


def lab_scores(labs: Mapping[str, np.ndarray], *, female, age_years, ascites_grade, he_grade) -> dict[str, np.ndarray]:
    """Child-Pugh points and class, MELD, MELD-Na, MELD 3.0, ALBI and its grade, FIB-4, APRI, CLIF-C AD and
    CLIF-C ACLF of the labs `labs` (keys Bil, Alb, INR, Cr, Na, AST, ALT, PLT, WBC, MAP, PF; arrays of one
    shape; without MAP and PF, CLIF-C ACLF is NaN). CLIF-C ACLF is computed for everyone (the formula is meant
    for patients with ACLF)."""
    bil = np.asarray(labs["Bil"], dtype=float) / BILIRUBIN_UMOL_L_PER_MG_DL
    cr = np.asarray(labs["Cr"], dtype=float) / CREATININE_UMOL_L_PER_MG_DL
    alb_g_dl = np.asarray(labs["Alb"], dtype=float) / ALBUMIN_G_L_PER_G_DL
    inr, na = np.asarray(labs["INR"], dtype=float), np.asarray(labs["Na"], dtype=float)
    age = np.broadcast_to(np.asarray(age_years, dtype=float), bil.shape)
    cp = np.asarray(child_pugh_points(bil, alb_g_dl, inr, np.asarray(ascites_grade).astype(int),
                                      np.asarray(he_grade).astype(int)), dtype=float)
    out = {
        "child_pugh_points": cp,
        "child_pugh_class": np.asarray(child_pugh_class(cp)),
        "meld": np.asarray(meld(bil, inr, cr), dtype=float),
        "meld_na": np.asarray(meld_na(bil, inr, cr, na), dtype=float),
        "meld_3": np.asarray(meld_3(bil, inr, cr, na, alb_g_dl, female), dtype=float),
        "albi": np.asarray(albi(labs["Bil"], labs["Alb"]), dtype=float),
        "fib4": np.asarray(fib4(age, labs["AST"], labs["ALT"], labs["PLT"]), dtype=float),
        "apri": np.asarray(apri(labs["AST"], labs["PLT"]), dtype=float),
        "clif_c_ad": np.asarray(clif_c_ad(age, cr, inr, labs["WBC"], na), dtype=float),
    }
    if "MAP" in labs and "PF" in labs:
        ofs = clif_c_ofs(bil, cr, np.asarray(he_grade).astype(int), inr, np.asarray(labs["MAP"], dtype=float),
                         pao2_fio2=np.asarray(labs["PF"], dtype=float))
        out["clif_c_aclf"] = np.asarray(clif_c_aclf(ofs, age, labs["WBC"]), dtype=float)
    else:   # without the vital signs the organ-failure score is unknown
        out["clif_c_aclf"] = np.full(bil.shape, np.nan)
    out["albi_grade"] = np.asarray(albi_grade(out["albi"]), dtype=float)
    return out


__all__ = ["lab_scores"]
