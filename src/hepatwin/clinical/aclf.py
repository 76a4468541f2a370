"""Acute-on-chronic liver failure (ACLF) and bleeding-risk formulas as pure, vectorised functions of lab values.

Research software, not clinical advice. No model code: these functions take lab values (scalars or NumPy arrays,
broadcast against each other, e.g. whole trajectories of many virtual patients) and return plain ``int``/``float``/
``bool`` for scalar input and arrays otherwise. Impossible input (NaN, infinities, negative or zero lab values,
an encephalopathy grade outside 0-4, a non-positive oxygenation ratio) raises :class:`ValueError` naming the
argument, the value and what was expected. Units are in the argument names (bilirubin and creatinine in mg/dL;
convert umol/L with :mod:`hepatwin.clinical.units`).

Sources (verification status as in the issue-20 literature preparation: V = read in the paper's abstract or the
publisher/official page; V2 = secondary source only; NV = not verified)
--------------------------------------------------------------------------------------------------------------
* CLIF-C OF score (simplified CLIF-SOFA): Jalan R et al. Development and validation of a prognostic score to
  predict mortality in patients with acute-on-chronic liver failure. J Hepatol 2014;61(5):1038-1047,
  doi:10.1016/j.jhep.2014.06.012. Organ bands V2 (review tables; EF-CLIF calculator page).
* Organ failures and EASL-CLIF ACLF grades: Moreau R et al. (CANONIC). Gastroenterology 2013;144(7):1426-1437,
  doi:10.1053/j.gastro.2013.02.042. Thresholds and grade rules V2 (EF-CLIF calculator page,
  https://efclif.com/research-infrastructure/score-calculators/clif-c-of-aclf-ad/, and review tables).
* CLIF-C ACLF score: Jalan 2014 (above). Formula V (EF-CLIF official calculator page).
* CLIF-C AD score: Jalan R et al. J Hepatol 2015;62(4):831-840, doi:10.1016/j.jhep.2014.11.012. Formula V
  (EF-CLIF official calculator page).
* APASL ACLF definition: Sarin SK et al. Hepatol Int 2019;13:353-390, doi:10.1007/s12072-019-09946-3. V2.
* Six-week mortality after acute variceal bleeding: Reverter E et al. A MELD-based model to determine risk of
  mortality among patients with acute variceal bleeding. Gastroenterology 2014;146(2):412-419.e3,
  doi:10.1053/j.gastro.2013.10.018, PMID 24148622. Formula V (abstract).

Not implemented: the full CLIF-SOFA (0-4 per organ, platelets <= 20 x 10^9/L for coagulation, vasopressor doses),
mechanical ventilation as a respiratory or brain failure criterion (named in some EASL-CLIF tables, V2), the APASL
AARC score (items NV), COSSH HBV-ACLF criteria (NV), and mortality by ACLF grade or CLIF-C score (the survival
constants and grade-specific mortalities were not verified).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._checks import bool_out, check_age, first_bad, flag, float_out, int_out, positive

__all__ = [
    "aclf_grade",
    "apasl_aclf",
    "brain_score",
    "circulation_score",
    "clif_c_aclf",
    "clif_c_ad",
    "clif_c_of",
    "clif_c_ofs",
    "coagulation_score",
    "kidney_score",
    "liver_score",
    "organ_failures",
    "respiration_score",
    "reverter_6w_mortality",
]

# ---------------------------------------------------------------------------
# thresholds (Jalan 2014 CLIF-C OF table and Moreau 2013 organ failures; V2, see the module docstring)
# ---------------------------------------------------------------------------

#: Liver: bilirubin < 6 -> 1, 6 to < 12 -> 2, >= 12 -> 3 (= liver failure), mg/dL.
LIVER_SCORE_2_BILIRUBIN_MG_DL = 6.0
LIVER_FAILURE_BILIRUBIN_MG_DL = 12.0
#: Kidney: creatinine < 2 -> 1, 2 to < 3.5 -> 2, >= 3.5 or RRT -> 3, mg/dL.
KIDNEY_SCORE_2_CREATININE_MG_DL = 2.0
KIDNEY_SCORE_3_CREATININE_MG_DL = 3.5
#: Kidney *failure* for the ACLF definition: creatinine >= 2 mg/dL or renal replacement therapy (not score 3).
KIDNEY_FAILURE_CREATININE_MG_DL = 2.0
#: Grade-1 "kidney dysfunction": creatinine 1.5-1.9 mg/dL, taken here as 1.5 <= creatinine < 2.0.
KIDNEY_DYSFUNCTION_CREATININE_MG_DL = 1.5
#: Coagulation: INR < 2.0 -> 1, 2.0 to < 2.5 -> 2, >= 2.5 -> 3 (= coagulation failure).
COAGULATION_SCORE_2_INR = 2.0
COAGULATION_FAILURE_INR = 2.5
#: Circulation: MAP >= 70 mmHg -> 1, < 70 -> 2, vasopressors -> 3 (= circulatory failure).
CIRCULATION_MAP_MMHG = 70.0
#: Respiration: PaO2/FiO2 > 300 -> 1, 200 < x <= 300 -> 2, <= 200 -> 3 (= respiratory failure).
PAO2_FIO2_SCORE_2 = 300.0
PAO2_FIO2_FAILURE = 200.0
#: Respiration by pulse oximetry: SpO2/FiO2 > 357 -> 1, 214 < x <= 357 -> 2, <= 214 -> 3.
SPO2_FIO2_SCORE_2 = 357.0
SPO2_FIO2_FAILURE = 214.0

#: APASL ACLF entry criteria (Sarin 2019, V2): bilirubin >= 5 mg/dL and (INR >= 1.5 or prothrombin activity < 40 %).
APASL_BILIRUBIN_MG_DL = 5.0
APASL_INR = 1.5
APASL_PTA_PERCENT = 40.0

#: Reverter 2014 (V): logit(p) = -5.312 + 0.207 * MELD.
REVERTER_INTERCEPT = -5.312
REVERTER_MELD_SLOPE = 0.207
#: The lowest value the MELD formula can give (all labs floored at 1.0: 10 * 0.643 = 6.43 -> 6).
MELD_MIN = 6.0


_ORGANS = ("liver", "kidney", "brain", "coagulation", "circulation", "respiration")

# ---------------------------------------------------------------------------
# validation and output helpers
# ---------------------------------------------------------------------------


def _finite(name: str, value: ArrayLike, expected: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {expected}; got {value!r}") from None
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"{name} must be {expected}; got {first_bad(arr, bad)!r}")
    return arr


def _he_grade(value: ArrayLike) -> np.ndarray:
    expected = "a West-Haven encephalopathy grade, an integer from 0 to 4"
    arr = _finite("he_grade", value, expected)
    bad = (arr != np.round(arr)) | (arr < 0) | (arr > 4)
    if np.any(bad):
        raise ValueError(f"he_grade must be {expected}; got {first_bad(arr, bad)!r}")
    return arr.astype(np.int64)


def _oxygenation(pao2_fio2: ArrayLike | None, spo2_fio2: ArrayLike | None) -> tuple[np.ndarray, float, float]:
    """The ratio given and its (score-2, failure) thresholds. Exactly one of the two ratios must be given."""
    if (pao2_fio2 is None) == (spo2_fio2 is None):
        got = "both" if pao2_fio2 is not None else "neither"
        raise ValueError(f"give exactly one of pao2_fio2 and spo2_fio2 (respiration); got {got}")
    if pao2_fio2 is not None:
        ratio = positive("pao2_fio2", pao2_fio2, "a finite PaO2/FiO2 ratio > 0 (PaO2 in mmHg, FiO2 as a fraction)")
        return ratio, PAO2_FIO2_SCORE_2, PAO2_FIO2_FAILURE
    ratio = positive("spo2_fio2", spo2_fio2, "a finite SpO2/FiO2 ratio > 0 (SpO2 in %, FiO2 as a fraction)")
    return ratio, SPO2_FIO2_SCORE_2, SPO2_FIO2_FAILURE


def _bilirubin(value: ArrayLike) -> np.ndarray:
    return positive("bilirubin_mg_dl", value, "a finite bilirubin > 0 mg/dL")


def _creatinine(value: ArrayLike) -> np.ndarray:
    return positive("creatinine_mg_dl", value, "a finite creatinine > 0 mg/dL")


def _inr(value: ArrayLike) -> np.ndarray:
    return positive("inr", value, "a finite INR > 0")


def _dict_out(parts: dict[str, np.ndarray], out) -> dict[str, Any]:
    """Broadcast every entry to the common shape, then convert each with `out`."""
    arrays = np.broadcast_arrays(*(np.asarray(v) for v in parts.values()))
    return {k: out(np.array(a)) for k, a in zip(parts, arrays, strict=True)}


# ---------------------------------------------------------------------------
# CLIF-C OF: one score 1-3 per organ (Jalan 2014)
# ---------------------------------------------------------------------------


def _liver(bili: np.ndarray) -> np.ndarray:
    return np.where(bili < LIVER_SCORE_2_BILIRUBIN_MG_DL, 1, np.where(bili < LIVER_FAILURE_BILIRUBIN_MG_DL, 2, 3))


def _kidney(cr: np.ndarray, rrt: np.ndarray) -> np.ndarray:
    band = np.where(cr < KIDNEY_SCORE_2_CREATININE_MG_DL, 1, np.where(cr < KIDNEY_SCORE_3_CREATININE_MG_DL, 2, 3))
    return np.where(rrt, 3, band)


def _brain(he: np.ndarray) -> np.ndarray:
    return np.where(he == 0, 1, np.where(he <= 2, 2, 3))


def _coagulation(inr: np.ndarray) -> np.ndarray:
    return np.where(inr < COAGULATION_SCORE_2_INR, 1, np.where(inr < COAGULATION_FAILURE_INR, 2, 3))


def _circulation(map_mmhg: np.ndarray, vaso: np.ndarray) -> np.ndarray:
    return np.where(vaso, 3, np.where(map_mmhg >= CIRCULATION_MAP_MMHG, 1, 2))


def _respiration(ratio: np.ndarray, score_2: float, failure: float) -> np.ndarray:
    return np.where(ratio > score_2, 1, np.where(ratio > failure, 2, 3))


def liver_score(bilirubin_mg_dl: ArrayLike) -> int | np.ndarray:
    """CLIF-C OF liver score: bilirubin < 6 -> 1, 6 to < 12 -> 2, >= 12 mg/dL -> 3 (Jalan 2014,
    doi:10.1016/j.jhep.2014.06.012).

    Bilirubin exactly 12 mg/dL scores 3 here, matching the CANONIC liver-failure definition (bilirubin >= 12 mg/dL,
    Moreau 2013); one reproduction of the Jalan 2014 table prints the top band as "> 12" (V2, not checked against
    the paper), under which 12.0 would score 2.
    """
    return int_out(_liver(_bilirubin(bilirubin_mg_dl)))


def kidney_score(creatinine_mg_dl: ArrayLike, rrt: Any = False) -> int | np.ndarray:
    """CLIF-C OF kidney score: creatinine < 2 -> 1, 2 to < 3.5 -> 2, >= 3.5 mg/dL or renal replacement therapy -> 3
    (Jalan 2014).

    Kidney *failure* for the ACLF definition starts at creatinine 2 mg/dL (see :func:`organ_failures`), not at score 3.
    """
    return int_out(_kidney(_creatinine(creatinine_mg_dl), flag("rrt", rrt)))


def brain_score(he_grade: ArrayLike) -> int | np.ndarray:
    """CLIF-C OF brain score from the West-Haven encephalopathy grade: 0 -> 1, 1-2 -> 2, 3-4 -> 3 (Jalan 2014)."""
    return int_out(_brain(_he_grade(he_grade)))


def coagulation_score(inr: ArrayLike) -> int | np.ndarray:
    """CLIF-C OF coagulation score: INR < 2.0 -> 1, 2.0 to < 2.5 -> 2, >= 2.5 -> 3 (Jalan 2014)."""
    return int_out(_coagulation(_inr(inr)))


def circulation_score(map_mmhg: ArrayLike, vasopressors: Any = False) -> int | np.ndarray:
    """CLIF-C OF circulation score: MAP >= 70 mmHg -> 1, MAP < 70 -> 2, vasopressors (any MAP) -> 3 (Jalan 2014)."""
    map_a = positive("map_mmhg", map_mmhg, "a finite mean arterial pressure > 0 mmHg")
    return int_out(_circulation(map_a, flag("vasopressors", vasopressors)))


def respiration_score(pao2_fio2: ArrayLike | None = None, spo2_fio2: ArrayLike | None = None) -> int | np.ndarray:
    """CLIF-C OF respiration score from exactly one oxygenation ratio (Jalan 2014).

    PaO2/FiO2 (mmHg per FiO2 fraction): > 300 -> 1, > 200 and <= 300 -> 2, <= 200 -> 3.
    SpO2/FiO2 (% per FiO2 fraction): > 357 -> 1, > 214 and <= 357 -> 2, <= 214 -> 3.
    """
    return int_out(_respiration(*_oxygenation(pao2_fio2, spo2_fio2)))


def clif_c_of(
    bilirubin_mg_dl: ArrayLike,
    creatinine_mg_dl: ArrayLike,
    he_grade: ArrayLike,
    inr: ArrayLike,
    map_mmhg: ArrayLike,
    *,
    rrt: Any = False,
    vasopressors: Any = False,
    pao2_fio2: ArrayLike | None = None,
    spo2_fio2: ArrayLike | None = None,
) -> dict[str, Any]:
    """The six CLIF-C OF organ scores (each 1-3), as a dict with keys liver, kidney, brain, coagulation,
    circulation and respiration, every entry broadcast to the common shape (Jalan 2014,
    doi:10.1016/j.jhep.2014.06.012). Give exactly one of ``pao2_fio2`` and ``spo2_fio2``."""
    parts = {
        "liver": _liver(_bilirubin(bilirubin_mg_dl)),
        "kidney": _kidney(_creatinine(creatinine_mg_dl), flag("rrt", rrt)),
        "brain": _brain(_he_grade(he_grade)),
        "coagulation": _coagulation(_inr(inr)),
        "circulation": _circulation(
            positive("map_mmhg", map_mmhg, "a finite mean arterial pressure > 0 mmHg"),
            flag("vasopressors", vasopressors),
        ),
        "respiration": _respiration(*_oxygenation(pao2_fio2, spo2_fio2)),
    }
    return _dict_out(parts, int_out)


def clif_c_ofs(
    bilirubin_mg_dl: ArrayLike,
    creatinine_mg_dl: ArrayLike,
    he_grade: ArrayLike,
    inr: ArrayLike,
    map_mmhg: ArrayLike,
    *,
    rrt: Any = False,
    vasopressors: Any = False,
    pao2_fio2: ArrayLike | None = None,
    spo2_fio2: ArrayLike | None = None,
) -> int | np.ndarray:
    """CLIF-C OF score: the sum of the six organ scores of :func:`clif_c_of`, 6-18 (Jalan 2014)."""
    scores = clif_c_of(
        bilirubin_mg_dl, creatinine_mg_dl, he_grade, inr, map_mmhg,
        rrt=rrt, vasopressors=vasopressors, pao2_fio2=pao2_fio2, spo2_fio2=spo2_fio2,
    )  # fmt: skip
    return int_out(sum(np.asarray(scores[k]) for k in _ORGANS))


# ---------------------------------------------------------------------------
# organ failures and EASL-CLIF ACLF grade (Moreau 2013)
# ---------------------------------------------------------------------------


def _failures(bilirubin_mg_dl, creatinine_mg_dl, he_grade, inr, rrt, vasopressors, pao2_fio2, spo2_fio2):
    bili = _bilirubin(bilirubin_mg_dl)
    cr = _creatinine(creatinine_mg_dl)
    he = _he_grade(he_grade)
    inr_a = _inr(inr)
    rrt_a = flag("rrt", rrt)
    vaso = flag("vasopressors", vasopressors)
    ratio, _, failure = _oxygenation(pao2_fio2, spo2_fio2)
    parts = {
        "liver": bili >= LIVER_FAILURE_BILIRUBIN_MG_DL,
        "kidney": (cr >= KIDNEY_FAILURE_CREATININE_MG_DL) | rrt_a,
        "brain": he >= 3,
        "coagulation": inr_a >= COAGULATION_FAILURE_INR,
        "circulation": vaso,
        "respiration": ratio <= failure,
    }
    return parts, cr, he


def organ_failures(
    bilirubin_mg_dl: ArrayLike,
    creatinine_mg_dl: ArrayLike,
    he_grade: ArrayLike,
    inr: ArrayLike,
    *,
    rrt: Any = False,
    vasopressors: Any = False,
    pao2_fio2: ArrayLike | None = None,
    spo2_fio2: ArrayLike | None = None,
) -> dict[str, Any]:
    """Organ failures as defined for ACLF (Moreau 2013, doi:10.1053/j.gastro.2013.02.042; V2), a dict of booleans.

    liver: bilirubin >= 12 mg/dL; kidney: creatinine >= 2 mg/dL or renal replacement therapy (note: the CLIF-C OF
    kidney score is 3 only from 3.5 mg/dL); brain: West-Haven grade 3-4; coagulation: INR >= 2.5; circulation:
    vasopressors; respiration: PaO2/FiO2 <= 200 or SpO2/FiO2 <= 214. The mean arterial pressure does not define
    a failure, so it is not an argument here.
    """
    parts, _, _ = _failures(bilirubin_mg_dl, creatinine_mg_dl, he_grade, inr, rrt, vasopressors, pao2_fio2, spo2_fio2)
    return _dict_out(parts, bool_out)


def aclf_grade(
    bilirubin_mg_dl: ArrayLike,
    creatinine_mg_dl: ArrayLike,
    he_grade: ArrayLike,
    inr: ArrayLike,
    *,
    rrt: Any = False,
    vasopressors: Any = False,
    pao2_fio2: ArrayLike | None = None,
    spo2_fio2: ArrayLike | None = None,
) -> int | np.ndarray:
    """EASL-CLIF ACLF grade 0 (no ACLF), 1, 2 or 3 (Moreau 2013, doi:10.1053/j.gastro.2013.02.042; rules V2 from the
    EF-CLIF calculator page), from the organ failures of :func:`organ_failures`.

    * Grade 0: no organ failure; or a single liver, coagulation, circulation or respiratory failure with creatinine
      < 1.5 mg/dL and no encephalopathy; or a single brain failure with creatinine < 1.5 mg/dL.
    * Grade 1: a single kidney failure; or a single liver, coagulation, circulation or respiratory failure with
      creatinine 1.5-1.9 mg/dL and/or encephalopathy grade 1-2; or a single brain failure with creatinine 1.5-1.9.
    * Grade 2: two organ failures. Grade 3: three or more.

    "Creatinine 1.5-1.9 mg/dL" is read as 1.5 <= creatinine < 2.0 (from 2.0 the kidney has failed).
    """
    parts, cr, he = _failures(bilirubin_mg_dl, creatinine_mg_dl, he_grade, inr, rrt, vasopressors, pao2_fio2, spo2_fio2)
    f = dict(zip(parts, np.broadcast_arrays(*parts.values()), strict=True))
    n = sum(f[k].astype(np.int64) for k in _ORGANS)
    cr_mid = (cr >= KIDNEY_DYSFUNCTION_CREATININE_MG_DL) & (cr < KIDNEY_FAILURE_CREATININE_MG_DL)
    he_mild = (he == 1) | (he == 2)
    other = f["liver"] | f["coagulation"] | f["circulation"] | f["respiration"]
    grade_1 = (n == 1) & (f["kidney"] | (other & (cr_mid | he_mild)) | (f["brain"] & cr_mid))
    return int_out(np.where(n >= 3, 3, np.where(n == 2, 2, np.where(grade_1, 1, 0))))


# ---------------------------------------------------------------------------
# CLIF-C ACLF and CLIF-C AD scores (Jalan 2014, 2015)
# ---------------------------------------------------------------------------


def clif_c_aclf(clif_c_of_score: ArrayLike, age_years: ArrayLike, wbc_10e9_l: ArrayLike) -> float | np.ndarray:
    """CLIF-C ACLF score = 10 * (0.33 * CLIF-C OFs + 0.04 * age + 0.63 * ln(WBC) - 2) (Jalan 2014,
    doi:10.1016/j.jhep.2014.06.012; formula V on the EF-CLIF calculator page).

    ``clif_c_of_score`` is the CLIF-C OF total (integer 6-18, :func:`clif_c_ofs`), age in years, white cell count in
    10^9/L. For patients with ACLF. Returned as computed, not clipped to the published 0-100 range.
    """
    arr = _finite("clif_c_of_score", clif_c_of_score, "a CLIF-C OF score, an integer from 6 to 18")
    bad = (arr != np.round(arr)) | (arr < 6) | (arr > 18)
    if np.any(bad):
        raise ValueError(
            f"clif_c_of_score must be a CLIF-C OF score, an integer from 6 to 18; got {first_bad(arr, bad)!r}"
        )
    age = check_age(age_years)
    wbc = positive("wbc_10e9_l", wbc_10e9_l, "a finite white cell count > 0 x 10^9/L (its logarithm is taken)")
    return float_out(10.0 * (0.33 * arr + 0.04 * age + 0.63 * np.log(wbc) - 2.0))


def clif_c_ad(
    age_years: ArrayLike,
    creatinine_mg_dl: ArrayLike,
    inr: ArrayLike,
    wbc_10e9_l: ArrayLike,
    sodium_mmol_l: ArrayLike,
) -> float | np.ndarray:
    """CLIF-C AD score = 10 * (0.03 * age + 0.66 * ln(creatinine) + 1.71 * ln(INR) + 0.88 * ln(WBC) - 0.05 * sodium + 8)
    (Jalan 2015, doi:10.1016/j.jhep.2014.11.012; formula V on the EF-CLIF calculator page).

    Age in years, creatinine in mg/dL, white cell count in 10^9/L, sodium in mmol/L. For acute decompensation
    without ACLF. No floors or caps are applied to the inputs (none are given by the source).
    """
    age = check_age(age_years)
    cr = positive("creatinine_mg_dl", creatinine_mg_dl, "a finite creatinine > 0 mg/dL (its logarithm is taken)")
    inr_a = positive("inr", inr, "a finite INR > 0 (its logarithm is taken)")
    wbc = positive("wbc_10e9_l", wbc_10e9_l, "a finite white cell count > 0 x 10^9/L (its logarithm is taken)")
    na = positive("sodium_mmol_l", sodium_mmol_l, "a finite serum sodium > 0 mmol/L")
    x = 0.03 * age + 0.66 * np.log(cr) + 1.71 * np.log(inr_a) + 0.88 * np.log(wbc) - 0.05 * na + 8.0
    return float_out(10.0 * x)


# ---------------------------------------------------------------------------
# APASL ACLF definition (Sarin 2019)
# ---------------------------------------------------------------------------


def apasl_aclf(
    bilirubin_mg_dl: ArrayLike,
    ascites: Any,
    encephalopathy: Any,
    *,
    inr: ArrayLike | None = None,
    pta_percent: ArrayLike | None = None,
) -> bool | np.ndarray:
    """APASL ACLF laboratory and clinical criteria (Sarin 2019, doi:10.1007/s12072-019-09946-3; V2):
    jaundice (bilirubin >= 5 mg/dL) and coagulopathy (INR >= 1.5 or prothrombin activity < 40 %), with clinical
    ascites and/or encephalopathy.

    ``ascites`` and ``encephalopathy`` are flags meaning "developed within 4 weeks of the acute hepatic insult";
    the caller tracks that window, and that the patient has chronic liver disease and an acute hepatic insult
    (both are part of the definition and are not lab values). Give ``inr``, ``pta_percent`` or both; with both,
    either criterion counts.
    """
    if inr is None and pta_percent is None:
        raise ValueError("give inr and/or pta_percent (the APASL coagulopathy criterion); got neither")
    bili = _bilirubin(bilirubin_mg_dl)
    coag = np.asarray(False)
    if inr is not None:
        coag = coag | (_inr(inr) >= APASL_INR)
    if pta_percent is not None:
        pta = positive("pta_percent", pta_percent, "a finite prothrombin activity > 0 %")
        coag = coag | (pta < APASL_PTA_PERCENT)
    clinical = flag("ascites", ascites) | flag("encephalopathy", encephalopathy)
    return bool_out((bili >= APASL_BILIRUBIN_MG_DL) & coag & clinical)


# ---------------------------------------------------------------------------
# six-week mortality after acute variceal bleeding (Reverter 2014)
# ---------------------------------------------------------------------------


def reverter_6w_mortality(meld: ArrayLike) -> float | np.ndarray:
    """Probability of death within 6 weeks of an acute variceal bleed, p = 1 / (1 + exp(5.312 - 0.207 * MELD))
    (Reverter 2014, doi:10.1053/j.gastro.2013.10.018; V, abstract). MELD >= 19 gives >= 20 %, MELD < 11 < 5 %.

    Fitted on 178 patients treated with standard therapy (2007-2010); MELD may be non-integer here.
    """
    m = _finite("meld", meld, f"a finite MELD score >= {MELD_MIN:g}")
    bad = m < MELD_MIN
    if np.any(bad):
        raise ValueError(f"meld must be a finite MELD score >= {MELD_MIN:g}; got {first_bad(m, bad)!r}")
    return float_out(1.0 / (1.0 + np.exp(-(REVERTER_INTERCEPT + REVERTER_MELD_SLOPE * m))))
