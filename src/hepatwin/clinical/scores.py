"""Clinical liver scores as pure, vectorised functions of lab values.

Sources
-------
* Child-Pugh: Pugh RNH, Murray-Lyon IM, Dawson JL, Pietroni MC, Williams R.
  Transection of the oesophagus for bleeding oesophageal varices. Br J Surg 1973;
  60:646-649, doi:10.1002/bjs.1800600817. The INR bands (<1.7, 1.7-2.3, >2.3) are the
  usual modern substitute for the prothrombin-time prolongation graded in 1973, and the
  cholestatic (PBC/PSC) bilirubin bands are <4, 4-10, >10 mg/dL; neither was checked
  against the paper's own table here.
* MELD: Kamath PS et al. A model to predict survival in patients with end-stage
  liver disease. Hepatology 2001;33:464-470, doi:10.1053/jhep.2001.22172; with the
  OPTN/UNOS rules (floors at 1.0, creatinine cap 4.0, dialysis, rounding, cap 40).
* MELD-Na: OPTN policy notice of November 2015 (OPTN Policy 9.1, effective January
  2016), https://optn.transplant.hrsa.gov/media/1575/policynotice_20151101.pdf
* MELD 3.0: Kim WR et al. MELD 3.0: the Model for End-Stage Liver Disease updated
  for the modern era. Gastroenterology 2021;161:1887-1895.e4,
  doi:10.1053/j.gastro.2021.08.050 (https://pmc.ncbi.nlm.nih.gov/articles/PMC8608337).
* ALBI: Johnson PJ et al. Assessment of liver function in patients with
  hepatocellular carcinoma: a new evidence-based approach - the ALBI grade.
  J Clin Oncol (published online December 2014), doi:10.1200/JCO.2014.57.9151.

Conventions
-----------
Every numeric function accepts scalars or numpy arrays (broadcast against each
other) and returns plain ``int``/``float``/``str`` for scalar input. Invalid input
(NaN, infinities, non-positive lab values, unknown ascites/encephalopathy labels)
raises :class:`ValueError` naming the argument, the value and what was expected.

Rounding is "half up" (x.5 goes up), applied with a 1e-9 tolerance so binary
floating-point noise (12.4999999999 for a true 12.5) does not flip the result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._checks import first_bad, flag, float_out, int_out, positive
from .units import (
    to_g_dl_albumin,
    to_g_l_albumin,
    to_mg_dl_bilirubin,
    to_mg_dl_creatinine,
    to_umol_l_bilirubin,
)

__all__ = [
    "albi",
    "albi_grade",
    "all_scores",
    "child_pugh_class",
    "child_pugh_points",
    "meld",
    "meld_3",
    "meld_na",
]

_ROUND_TOL = 1e-9
MELD_CAP = 40


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=float) + 0.5 + _ROUND_TOL)


def _normalise_labels(arr: np.ndarray) -> np.ndarray:
    out = np.char.lower(np.char.strip(arr.astype(str)))
    for sep in (" ", "_", "-"):
        out = np.char.replace(out, sep, "")
    return out


def _grade_points(
    name: str,
    value: Any,
    labels: dict[str, int],
    grade_points: tuple[int, ...],
    expected: str,
) -> np.ndarray:
    """Map labels (strings) or integer grades to Child-Pugh points, vectorised."""
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if np.any(bad):
            raise ValueError(f"{name}: unknown value {first_bad(arr, bad)!r}; expected {expected}")
        arr = arr.astype(np.int64)
        kind = "i"
    if kind in "iu":
        bad = (arr < 0) | (arr >= len(grade_points))
        if np.any(bad):
            raise ValueError(f"{name}: unknown grade {first_bad(arr, bad)!r}; expected {expected}")
        return np.asarray(grade_points, dtype=np.int64)[arr]
    if kind in "USO":
        if kind == "O":
            missing = np.asarray(np.equal(arr, None), dtype=bool)
            if np.any(missing):
                raise ValueError(f"{name}: unknown value None; expected {expected}")
        negative = np.char.startswith(np.char.strip(arr.astype(str)), "-")   # "-1" is not grade 1
        if np.any(negative):
            raise ValueError(f"{name}: unknown value {first_bad(arr, negative)!r}; expected {expected}")
        norm = _normalise_labels(arr)
        uniq, inverse = np.unique(norm, return_inverse=True)
        unknown = [u for u in uniq.tolist() if u not in labels]
        if unknown:
            bad = norm == unknown[0]
            raise ValueError(f"{name}: unknown value {first_bad(arr, bad)!r}; expected {expected}")
        table = np.array([labels[u] for u in uniq.tolist()], dtype=np.int64)
        return table[inverse].reshape(arr.shape)
    raise ValueError(f"{name}: unknown value {value!r}; expected {expected}")


# ---------------------------------------------------------------------------
# Child-Pugh
# ---------------------------------------------------------------------------

_ASCITES_LABELS = {
    "none": 1, "absent": 1, "0": 1,
    "mild": 2, "1": 2,
    "moderate": 3, "severe": 3, "2": 3, "3": 3,
}  # fmt: skip
_ASCITES_GRADES = (1, 2, 3, 3)  # grade 0, 1, 2, 3
_ASCITES_EXPECTED = "'none', 'mild', 'moderate', 'severe' or an integer grade 0-3"

_HE_LABELS = {
    "none": 1, "absent": 1, "grade0": 1, "0": 1,
    "mild": 2, "grade1": 2, "grade2": 2, "1": 2, "2": 2,
    "severe": 3, "grade3": 3, "grade4": 3, "3": 3, "4": 3,
}  # fmt: skip
_HE_GRADES = (1, 2, 2, 3, 3)  # West Haven grade 0, 1, 2, 3, 4
_HE_EXPECTED = (
    "'none', 'grade1', 'grade2', 'mild', 'grade3', 'grade4', 'severe' or an integer grade 0-4"
)


def child_pugh_points(
    bilirubin_mg_dl: ArrayLike,
    albumin_g_dl: ArrayLike,
    inr: ArrayLike,
    ascites: Any,
    encephalopathy: Any,
    cholestatic: Any = False,
) -> int | np.ndarray:
    """Child-Pugh points (5-15).

    Bands (the middle band is closed at both ends):

    * bilirubin: < 2 -> 1, 2-3 -> 2, > 3 -> 3 mg/dL; cholestatic (PBC/PSC):
      < 4 -> 1, 4-10 -> 2, > 10 -> 3 mg/dL. So 2.0 and 3.0 mg/dL score 2.
    * albumin: > 3.5 -> 1, 2.8-3.5 -> 2, < 2.8 -> 3 g/dL. So 3.5 and 2.8 score 2.
    * INR: < 1.7 -> 1, 1.7-2.3 -> 2, > 2.3 -> 3. So 1.7 and 2.3 score 2.
    * ascites: 'none' -> 1, 'mild' -> 2, 'moderate'/'severe' -> 3; or grade
      0 -> 1, 1 -> 2, 2/3 -> 3.
    * encephalopathy: 'none' -> 1, 'grade1'/'grade2'/'mild' -> 2,
      'grade3'/'grade4'/'severe' -> 3; or West Haven grade 0 -> 1, 1-2 -> 2, 3-4 -> 3.

    Labels are case-insensitive; spaces, '_' and '-' are ignored ('Grade 1' works).
    """
    bili = positive("bilirubin_mg_dl", bilirubin_mg_dl, "a finite bilirubin > 0 mg/dL")
    alb = positive("albumin_g_dl", albumin_g_dl, "a finite albumin > 0 g/dL")
    inr_a = positive("inr", inr, "a finite INR > 0")
    chol = flag("cholestatic", cholestatic)
    asc = _grade_points("ascites", ascites, _ASCITES_LABELS, _ASCITES_GRADES, _ASCITES_EXPECTED)
    he = _grade_points("encephalopathy", encephalopathy, _HE_LABELS, _HE_GRADES, _HE_EXPECTED)

    low = np.where(chol, 4.0, 2.0)
    high = np.where(chol, 10.0, 3.0)
    p_bili = np.where(bili < low, 1, np.where(bili <= high, 2, 3))
    p_alb = np.where(alb > 3.5, 1, np.where(alb >= 2.8, 2, 3))
    p_inr = np.where(inr_a < 1.7, 1, np.where(inr_a <= 2.3, 2, 3))
    return int_out(p_bili + p_alb + p_inr + asc + he)


def child_pugh_class(points: ArrayLike) -> str | np.ndarray:
    """Child-Pugh class from points: 5-6 -> 'A', 7-9 -> 'B', 10-15 -> 'C'."""
    try:
        arr = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"points must be an integer from 5 to 15; got {points!r}") from None
    bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 5) | (arr > 15)
    if np.any(bad):
        raise ValueError(f"points must be an integer from 5 to 15; got {first_bad(arr, bad)!r}")
    cls = np.where(arr <= 6, "A", np.where(arr <= 9, "B", "C"))
    return str(cls) if cls.ndim == 0 else cls


# ---------------------------------------------------------------------------
# MELD family
# ---------------------------------------------------------------------------


def _meld_i(bilirubin_mg_dl, inr, creatinine_mg_dl, dialysis) -> np.ndarray:
    """OPTN MELD(i): already rounded to the tenth and multiplied by 10; not capped."""
    bili = positive("bilirubin_mg_dl", bilirubin_mg_dl, "a finite bilirubin > 0 mg/dL")
    inr_a = positive("inr", inr, "a finite INR > 0")
    cr = positive("creatinine_mg_dl", creatinine_mg_dl, "a finite creatinine > 0 mg/dL")
    dial = flag("dialysis", dialysis)
    bili = np.maximum(bili, 1.0)
    inr_a = np.maximum(inr_a, 1.0)
    cr = np.where(dial, 4.0, np.clip(cr, 1.0, 4.0))
    x = 0.957 * np.log(cr) + 0.378 * np.log(bili) + 1.120 * np.log(inr_a) + 0.643
    # "round to the tenth decimal place and multiply by 10" == round(10 x) to an integer
    return _round_half_up(10.0 * x)


def _sodium(sodium) -> np.ndarray:
    na = positive("sodium", sodium, "a finite serum sodium > 0 mmol/L")
    return np.clip(na, 125.0, 137.0)


def meld(
    bilirubin_mg_dl: ArrayLike,
    inr: ArrayLike,
    creatinine_mg_dl: ArrayLike,
    dialysis: Any = False,
) -> int | np.ndarray:
    """OPTN/UNOS MELD (without sodium), Kamath 2001.

    Bilirubin, INR and creatinine below 1.0 are set to 1.0; creatinine is capped at
    4.0 mg/dL, and set to 4.0 when ``dialysis`` is true (at least two dialysis
    treatments, or 24 h of CVVHD, in the prior week).
    MELD(i) = 0.957 ln(Cr) + 0.378 ln(bilirubin) + 1.120 ln(INR) + 0.643, rounded to
    the tenth decimal place, multiplied by 10, capped at 40.
    """
    m = _meld_i(bilirubin_mg_dl, inr, creatinine_mg_dl, dialysis)
    return int_out(np.minimum(m, MELD_CAP))


def meld_na(
    bilirubin_mg_dl: ArrayLike,
    inr: ArrayLike,
    creatinine_mg_dl: ArrayLike,
    sodium: ArrayLike,
    dialysis: Any = False,
) -> int | np.ndarray:
    """OPTN MELD-Na (OPTN Policy 9.1, January 2016 - July 2023).

    Source: OPTN policy notice, November 2015,
    https://optn.transplant.hrsa.gov/media/1575/policynotice_20151101.pdf
    (text as reproduced by several independent implementations; the PDF itself
    could not be retrieved here):

        MELD(i) = 0.957 ln(Cr) + 0.378 ln(bilirubin) + 1.120 ln(INR) + 0.643
        Then, round to the tenth decimal place and multiply by 10.
        If MELD(i) > 11: MELD = MELD(i) + 1.32 (137 - Na) - 0.033 MELD(i) (137 - Na)

    So MELD(i) here is the rounded, integer-valued MELD (same floors, creatinine cap
    and dialysis rule as :func:`meld`); sodium is bounded to 125-137 mmol/L; maximum
    MELD 40. The policy text does not spell out how the sodium-adjusted value is
    rounded; MELD is allocated in whole points, and this function rounds it to the
    nearest integer (half up). Capping MELD(i) at 40 before or after the sodium step
    gives the same result, because for MELD(i) >= 40 the adjusted value is >= 40.
    """
    m = _meld_i(bilirubin_mg_dl, inr, creatinine_mg_dl, dialysis)
    d = 137.0 - _sodium(sodium)
    adjusted = np.where(m > 11, m + 1.32 * d - 0.033 * m * d, m)
    return int_out(np.minimum(_round_half_up(adjusted), MELD_CAP))


def meld_3(
    bilirubin_mg_dl: ArrayLike,
    inr: ArrayLike,
    creatinine_mg_dl: ArrayLike,
    sodium: ArrayLike,
    albumin_g_dl: ArrayLike,
    female: Any,
    dialysis: Any = False,
) -> int | np.ndarray:
    """MELD 3.0 (Kim et al. 2021, doi:10.1053/j.gastro.2021.08.050).

    1.33 (female) + 4.56 ln(bili) + 0.82 (137 - Na) - 0.24 (137 - Na) ln(bili)
    + 9.09 ln(INR) + 11.14 ln(Cr) + 1.85 (3.5 - Alb) - 1.83 (3.5 - Alb) ln(Cr) + 6,

    with bilirubin, INR and creatinine floored at 1.0, creatinine capped at 3.0 mg/dL
    (3.0 when ``dialysis`` is true), sodium bounded to 125-137 mmol/L and albumin to
    1.5-3.5 g/dL; rounded to the nearest integer (half up) and capped at 40 as in
    OPTN allocation (Kim et al. scaled the score without presuming a cap; the cap is
    the allocation rule). The OPTN adolescent rule (1.33 points for every candidate
    aged 12-17) is not applied.
    """
    bili = np.maximum(positive("bilirubin_mg_dl", bilirubin_mg_dl, "a finite bilirubin > 0 mg/dL"), 1.0)
    inr_a = np.maximum(positive("inr", inr, "a finite INR > 0"), 1.0)
    cr = positive("creatinine_mg_dl", creatinine_mg_dl, "a finite creatinine > 0 mg/dL")
    na = _sodium(sodium)
    alb = positive("albumin_g_dl", albumin_g_dl, "a finite albumin > 0 g/dL")
    fem = flag("female", female)
    dial = flag("dialysis", dialysis)

    cr = np.where(dial, 3.0, np.clip(cr, 1.0, 3.0))
    alb = np.clip(alb, 1.5, 3.5)
    ln_b, ln_i, ln_c = np.log(bili), np.log(inr_a), np.log(cr)
    d_na = 137.0 - na
    d_alb = 3.5 - alb
    score = (
        1.33 * fem
        + 4.56 * ln_b
        + 0.82 * d_na
        - 0.24 * d_na * ln_b
        + 9.09 * ln_i
        + 11.14 * ln_c
        + 1.85 * d_alb
        - 1.83 * d_alb * ln_c
        + 6.0
    )
    return int_out(np.minimum(_round_half_up(score), MELD_CAP))


# ---------------------------------------------------------------------------
# ALBI
# ---------------------------------------------------------------------------


def albi(bilirubin_umol_l: ArrayLike, albumin_g_l: ArrayLike) -> float | np.ndarray:
    """ALBI score = 0.66 log10(bilirubin, umol/L) - 0.085 albumin (g/L) (Johnson et al.)."""
    bili = positive("bilirubin_umol_l", bilirubin_umol_l, "a finite bilirubin > 0 umol/L")
    alb = positive("albumin_g_l", albumin_g_l, "a finite albumin > 0 g/L")
    return float_out(0.66 * np.log10(bili) - 0.085 * alb)


def albi_grade(score: ArrayLike) -> int | np.ndarray:
    """ALBI grade: score <= -2.60 -> 1; -2.60 < score <= -1.39 -> 2; score > -1.39 -> 3."""
    try:
        arr = np.asarray(score, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"score must be a finite ALBI score; got {score!r}") from None
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"score must be a finite ALBI score; got {first_bad(arr, bad)!r}")
    return int_out(np.where(arr <= -2.60, 1, np.where(arr <= -1.39, 2, 3)))


# ---------------------------------------------------------------------------
# everything at once
# ---------------------------------------------------------------------------


def _plain(x: Any) -> Any:
    return x.tolist() if isinstance(x, np.ndarray) else x


def all_scores(
    bilirubin: ArrayLike,
    bilirubin_unit: str,
    albumin: ArrayLike,
    albumin_unit: str,
    inr: ArrayLike,
    creatinine: ArrayLike,
    creatinine_unit: str,
    sodium: ArrayLike,
    ascites: Any,
    encephalopathy: Any,
    female: Any,
    dialysis: Any = False,
    cholestatic: Any = False,
) -> dict[str, Any]:
    """All scores from one set of labs, in any accepted units.

    Returns a dict with exactly the keys ``child_pugh_points``, ``child_pugh_class``,
    ``meld``, ``meld_na``, ``meld_3``, ``albi`` (unrounded float) and ``albi_grade``,
    holding plain Python values (lists of them for array input). Sodium is in mmol/L
    (= mEq/L).
    """
    bili_mg_dl = to_mg_dl_bilirubin(bilirubin, bilirubin_unit)
    bili_umol_l = to_umol_l_bilirubin(bilirubin, bilirubin_unit)
    alb_g_dl = to_g_dl_albumin(albumin, albumin_unit)
    alb_g_l = to_g_l_albumin(albumin, albumin_unit)
    cr_mg_dl = to_mg_dl_creatinine(creatinine, creatinine_unit)

    points = child_pugh_points(bili_mg_dl, alb_g_dl, inr, ascites, encephalopathy, cholestatic)
    albi_score = albi(bili_umol_l, alb_g_l)
    result = {
        "child_pugh_points": points,
        "child_pugh_class": child_pugh_class(points),
        "meld": meld(bili_mg_dl, inr, cr_mg_dl, dialysis),
        "meld_na": meld_na(bili_mg_dl, inr, cr_mg_dl, sodium, dialysis),
        "meld_3": meld_3(bili_mg_dl, inr, cr_mg_dl, sodium, alb_g_dl, female, dialysis),
        "albi": albi_score,
        "albi_grade": albi_grade(albi_score),
    }
    return {key: _plain(value) for key, value in result.items()}
