"""Tests for hepatwin.clinical: every expected value below is worked out by hand in the
comments (natural logs to 6 decimals), never by re-running the formula under test."""

from __future__ import annotations

import numpy as np
import pytest

from hepatwin.clinical import (
    BILIRUBIN_UMOL_L_PER_MG_DL,
    CREATININE_UMOL_L_PER_MG_DL,
    DEFAULT_REAGENT,
    ReagentConstants,
    albi,
    albi_grade,
    all_scores,
    child_pugh_class,
    child_pugh_points,
    inr_from_pta,
    meld,
    meld_3,
    meld_na,
    pta_from_inr,
    to_g_dl_albumin,
    to_g_l_albumin,
    to_mg_dl_bilirubin,
    to_mg_dl_creatinine,
    to_umol_l_bilirubin,
    to_umol_l_creatinine,
)

# ---------------------------------------------------------------------------
# units
# ---------------------------------------------------------------------------


def test_convention_factors_are_exact():
    assert BILIRUBIN_UMOL_L_PER_MG_DL == 17.1
    assert CREATININE_UMOL_L_PER_MG_DL == 88.4
    assert to_umol_l_bilirubin(1.0, "mg/dL") == 17.1
    assert to_umol_l_creatinine(1.0, "mg/dL") == 88.4
    assert to_mg_dl_bilirubin(17.1, "umol/L") == 1.0
    assert to_mg_dl_creatinine(88.4, "umol/L") == 1.0


def test_bilirubin_conversion_hand_value():
    # 2.1 mg/dL * 17.1 = 34.2 + 1.71 = 35.91 umol/L
    assert to_umol_l_bilirubin(2.1, "mg/dL") == pytest.approx(35.91, abs=1e-12)
    assert to_mg_dl_bilirubin(35.91, "umol/L") == pytest.approx(2.1, abs=1e-12)
    # 51.3 / 17.1 = 3 exactly: must land on the Child-Pugh band edge, not 2.9999999999999996
    assert to_mg_dl_bilirubin(51.3, "umol/L") == 3.0
    assert to_mg_dl_bilirubin(2.1, "mg/dL") == 2.1


@pytest.mark.parametrize("unit", ["umol/L", "µmol/L", "μmol/L", " umol/L "])
def test_micro_spellings(unit):
    # 34.2 umol/L / 17.1 = 2.0 mg/dL ; 176.8 umol/L / 88.4 = 2.0 mg/dL
    assert to_mg_dl_bilirubin(34.2, unit) == 2.0
    assert to_mg_dl_creatinine(176.8, unit) == 2.0


def test_creatinine_and_albumin_hand_values():
    # 1.1 mg/dL * 88.4 = 88.4 + 8.84 = 97.24 umol/L
    assert to_umol_l_creatinine(1.1, "mg/dL") == pytest.approx(97.24, abs=1e-12)
    assert to_mg_dl_creatinine(97.24, "µmol/L") == pytest.approx(1.1, abs=1e-12)
    # 28 g/L / 10 = 2.8 g/dL ; 3.5 g/dL * 10 = 35 g/L
    assert to_g_dl_albumin(28, "g/L") == 2.8
    assert to_g_l_albumin(3.5, "g/dL") == 35.0
    assert to_g_l_albumin(28, "g/L") == 28.0
    assert to_g_dl_albumin(3.5, "g/dL") == 3.5


def test_other_pint_units_are_converted():
    # 0.03591 mmol/L = 35.91 umol/L -> 2.1 mg/dL ; 21 mg/L = 2.1 mg/dL
    assert to_mg_dl_bilirubin(0.03591, "mmol/L") == pytest.approx(2.1, abs=1e-12)
    assert to_mg_dl_bilirubin(21, "mg/L") == pytest.approx(2.1, abs=1e-12)


def test_unit_conversion_arrays_match_scalars():
    values = np.array([0.5, 2.1, 10.0])
    got = to_umol_l_bilirubin(values, "mg/dL")
    assert isinstance(got, np.ndarray)
    # 0.5*17.1 = 8.55 ; 2.1*17.1 = 35.91 ; 10*17.1 = 171
    np.testing.assert_allclose(got, [8.55, 35.91, 171.0], atol=1e-12)
    assert [to_umol_l_bilirubin(v, "mg/dL") for v in values] == pytest.approx(got.tolist())
    assert isinstance(to_umol_l_bilirubin(2.1, "mg/dL"), float)


def test_unknown_units_raise():
    with pytest.raises(ValueError, match=r"unknown bilirubin unit 'mg/dLx'.*mg/dL.*umol/L"):
        to_mg_dl_bilirubin(1.0, "mg/dLx")
    with pytest.raises(ValueError, match=r"unknown creatinine unit 'mEq/L'"):
        to_mg_dl_creatinine(1.0, "mEq/L")
    with pytest.raises(ValueError, match=r"unknown albumin unit 'umol/L'.*g/L.*g/dL"):
        to_g_l_albumin(500.0, "umol/L")  # albumin has no convention molar factor here
    with pytest.raises(ValueError, match=r"unknown bilirubin unit 'kg'"):
        to_umol_l_bilirubin(1.0, "kg")
    with pytest.raises(ValueError, match="bilirubin must be a finite, non-negative"):
        to_umol_l_bilirubin(float("nan"), "mg/dL")
    with pytest.raises(ValueError, match="albumin must be a finite, non-negative"):
        to_g_dl_albumin([30.0, -1.0], "g/L")


# ---------------------------------------------------------------------------
# coagulation
# ---------------------------------------------------------------------------


def test_reagent_defaults_and_sources():
    assert ReagentConstants(a_s=6.0, b_s=6.0, isi=1.0) == DEFAULT_REAGENT
    assert DEFAULT_REAGENT.a_s_source.startswith("assumed: generic thromboplastin")
    with pytest.raises(AttributeError):
        DEFAULT_REAGENT.a_s = 5.0  # frozen


def test_inr_from_pta_hand_values():
    # PTA 100 %: PT = 6 + 600/100 = 12 s = normal -> INR 1.0
    assert inr_from_pta(100.0) == pytest.approx(1.0, abs=1e-12)
    # PTA 50 %: PT = 6 + 600/50 = 18 s ; 18/12 = 1.5 -> INR 1.5
    assert inr_from_pta(50.0) == pytest.approx(1.5, abs=1e-12)
    # PTA 25 %: PT = 6 + 600/25 = 30 s ; 30/12 = 2.5
    assert inr_from_pta(25.0) == pytest.approx(2.5, abs=1e-12)
    # ISI 1.2, PTA 50 %: 1.5**1.2 = exp(1.2 * 0.405465) = exp(0.486558) = 1.626708
    assert inr_from_pta(50.0, isi=1.2) == pytest.approx(1.626708, abs=1e-6)
    # a = 4, b = 8, PTA 50 %: PT = 4 + 800/50 = 20 s ; normal 12 s ; 20/12 = 1.666667
    assert inr_from_pta(50.0, a=4.0, b=8.0) == pytest.approx(1.666667, abs=1e-6)


def test_pta_from_inr_hand_values_and_round_trip():
    # INR 1.5: 12*1.5 - 6 = 12 ; 600/12 = 50 %
    assert pta_from_inr(1.5) == pytest.approx(50.0, abs=1e-9)
    # ISI 1.2, INR 1.626708: 1.626708**(1/1.2) = 1.5 -> 50 %
    assert pta_from_inr(1.626708, isi=1.2) == pytest.approx(50.0, abs=1e-3)
    ptas = np.array([10.0, 25.0, 50.0, 70.0, 100.0, 120.0])
    for isi in (1.0, 1.2, 2.0):
        back = pta_from_inr(inr_from_pta(ptas, isi=isi), isi=isi)
        np.testing.assert_allclose(back, ptas, rtol=1e-12)
    assert isinstance(pta_from_inr(1.5), float)


def test_coagulation_errors():
    with pytest.raises(ValueError, match=r"pta_percent must be .*> 0 %; got 0\.0"):
        inr_from_pta(0.0)
    with pytest.raises(ValueError, match=r"pta_percent .*got -5\.0"):
        inr_from_pta([50.0, -5.0])
    with pytest.raises(ValueError, match=r"inr must be a finite INR > 0; got 0\.0"):
        pta_from_inr(0.0)
    with pytest.raises(ValueError, match=r"inr must be a finite INR > 0; got nan"):
        pta_from_inr(float("nan"))
    # a=b=6, ISI 1: PT = 12*INR must exceed a = 6 s, so INR must exceed 0.5
    with pytest.raises(ValueError, match=r"inr must be above 0\.5"):
        pta_from_inr(0.5)
    with pytest.raises(ValueError, match=r"isi must be"):
        inr_from_pta(50.0, isi=0.0)


# ---------------------------------------------------------------------------
# Child-Pugh
# ---------------------------------------------------------------------------

# Baseline: every item scores 1 point -> 5 points.
BASE = {"bilirubin_mg_dl": 1.0, "albumin_g_dl": 4.0, "inr": 1.0, "ascites": "none",
        "encephalopathy": "none"}  # fmt: skip


def cp(**kw):
    return child_pugh_points(**{**BASE, **kw})


def test_child_pugh_baseline_and_maximum():
    assert cp() == 5
    # 3 + 3 + 3 + 3 + 3 = 15
    assert cp(bilirubin_mg_dl=5.0, albumin_g_dl=2.0, inr=3.0, ascites="severe",
              encephalopathy="grade4") == 15  # fmt: skip


@pytest.mark.parametrize(
    ("bili", "points"),
    [(1.99, 5), (2.0, 6), (2.5, 6), (3.0, 6), (3.01, 7)],
)
def test_child_pugh_bilirubin_edges(bili, points):
    # < 2 -> 1 ; 2..3 closed -> 2 ; > 3 -> 3 (plus 4 baseline points)
    assert cp(bilirubin_mg_dl=bili) == points


@pytest.mark.parametrize(
    ("bili", "points"),
    [(3.99, 5), (4.0, 6), (10.0, 6), (10.01, 7)],
)
def test_child_pugh_cholestatic_edges(bili, points):
    # PBC/PSC: < 4 -> 1 ; 4..10 closed -> 2 ; > 10 -> 3
    assert cp(bilirubin_mg_dl=bili, cholestatic=True) == points


def test_child_pugh_cholestatic_changes_the_band():
    # 4.0 mg/dL: non-cholestatic > 3 -> 3 points (7) ; cholestatic 4..10 -> 2 points (6)
    assert cp(bilirubin_mg_dl=4.0) == 7
    assert cp(bilirubin_mg_dl=4.0, cholestatic=True) == 6


@pytest.mark.parametrize(
    ("alb", "points"),
    [(3.51, 5), (3.5, 6), (3.0, 6), (2.8, 6), (2.79, 7)],
)
def test_child_pugh_albumin_edges(alb, points):
    # > 3.5 -> 1 ; 2.8..3.5 closed -> 2 ; < 2.8 -> 3
    assert cp(albumin_g_dl=alb) == points


@pytest.mark.parametrize(
    ("inr", "points"),
    [(1.69, 5), (1.7, 6), (2.0, 6), (2.3, 6), (2.31, 7)],
)
def test_child_pugh_inr_edges(inr, points):
    # < 1.7 -> 1 ; 1.7..2.3 closed -> 2 ; > 2.3 -> 3
    assert cp(inr=inr) == points


@pytest.mark.parametrize(
    ("ascites", "points"),
    [("none", 5), ("absent", 5), ("mild", 6), ("Moderate", 7), ("severe", 7),
     (0, 5), (1, 6), (2, 7), (3, 7), (np.int64(2), 7), (1.0, 6)],
)  # fmt: skip
def test_child_pugh_ascites(ascites, points):
    assert cp(ascites=ascites) == points


@pytest.mark.parametrize(
    ("he", "points"),
    [("none", 5), ("grade1", 6), ("Grade 2", 6), ("mild", 6), ("grade3", 7),
     ("grade_4", 7), ("severe", 7), (0, 5), (1, 6), (2, 6), (3, 7), (4, 7)],
)  # fmt: skip
def test_child_pugh_encephalopathy(he, points):
    assert cp(encephalopathy=he) == points


@pytest.mark.parametrize(
    ("points", "cls"),
    [(5, "A"), (6, "A"), (7, "B"), (9, "B"), (10, "C"), (15, "C")],
)
def test_child_pugh_class_edges(points, cls):
    assert child_pugh_class(points) == cls


def test_child_pugh_class_from_points_at_edges():
    # 6 points: bilirubin 2.0 (2) + 1 + 1 + 1 + 1 -> A ; add mild ascites (2) -> 7 -> B
    assert child_pugh_class(cp(bilirubin_mg_dl=2.0)) == "A"
    assert child_pugh_class(cp(bilirubin_mg_dl=2.0, ascites="mild")) == "B"
    # 9 points: bili 3.0 (2) + alb 2.8 (2) + INR 2.3 (2) + mild (2) + none (1) -> B
    nine = cp(bilirubin_mg_dl=3.0, albumin_g_dl=2.8, inr=2.3, ascites="mild")
    assert nine == 9
    assert child_pugh_class(nine) == "B"
    # 10 points: same but grade 1 encephalopathy (2) -> C
    ten = cp(bilirubin_mg_dl=3.0, albumin_g_dl=2.8, inr=2.3, ascites="mild", encephalopathy=1)
    assert ten == 10
    assert child_pugh_class(ten) == "C"


def test_child_pugh_arrays_match_scalars():
    bili = np.array([1.0, 2.0, 3.5, 4.0])
    alb = np.array([4.0, 3.5, 2.5, 3.0])
    inr = np.array([1.0, 1.7, 2.5, 2.0])
    asc = ["none", "mild", "severe", 1]
    he = np.array([0, 1, 4, 2])
    chol = np.array([False, False, False, True])
    got = child_pugh_points(bili, alb, inr, asc, he, chol)
    assert isinstance(got, np.ndarray)
    # row 0: 1+1+1+1+1 = 5 ; row 1: 2+2+2+2+2 = 10 ; row 2: 3+3+3+3+3 = 15 ;
    # row 3 (cholestatic): 2+2+2+2+2 = 10
    assert got.tolist() == [5, 10, 15, 10]
    one_by_one = [child_pugh_points(bili[i], alb[i], inr[i], asc[i], he[i], chol[i])
                  for i in range(4)]  # fmt: skip
    assert one_by_one == got.tolist()
    assert child_pugh_class(got).tolist() == ["A", "C", "C", "C"]
    assert isinstance(cp(), int)
    assert isinstance(child_pugh_class(5), str)


def test_child_pugh_errors():
    with pytest.raises(ValueError, match=r"ascites: unknown value 'lots'; expected 'none'"):
        cp(ascites="lots")
    with pytest.raises(ValueError, match=r"ascites: unknown grade 4"):
        cp(ascites=4)
    with pytest.raises(ValueError, match=r"ascites: unknown value None"):
        cp(ascites=np.array(["none", None], dtype=object))
    with pytest.raises(ValueError, match=r"ascites: unknown value True"):
        cp(ascites=True)
    with pytest.raises(ValueError, match=r"encephalopathy: unknown value 'grade5'"):
        cp(encephalopathy="grade5")
    with pytest.raises(ValueError, match=r"encephalopathy: unknown grade -1"):
        cp(encephalopathy=-1)
    with pytest.raises(ValueError, match=r"encephalopathy: unknown value 1\.5"):
        cp(encephalopathy=1.5)
    with pytest.raises(ValueError, match=r"bilirubin_mg_dl must be .*> 0 mg/dL; got nan"):
        cp(bilirubin_mg_dl=float("nan"))
    with pytest.raises(ValueError, match=r"albumin_g_dl must be .*; got 0\.0"):
        cp(albumin_g_dl=0.0)
    with pytest.raises(ValueError, match=r"inr must be .*; got -1\.0"):
        cp(inr=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"cholestatic must be True/False"):
        cp(cholestatic="yes")
    for bad in (4, 16, 7.5, float("nan")):
        with pytest.raises(ValueError, match="points must be an integer from 5 to 15"):
            child_pugh_class(bad)


# ---------------------------------------------------------------------------
# MELD
# ---------------------------------------------------------------------------


def test_meld_hand_value():
    # bili 2.0, INR 1.4, Cr 1.5:
    # 0.957*ln(1.5) = 0.957*0.405465 = 0.388030
    # 0.378*ln(2.0) = 0.378*0.693147 = 0.262010
    # 1.120*ln(1.4) = 1.120*0.336472 = 0.376849
    # sum + 0.643 = 1.669889 -> tenth 1.7 -> x10 = 17
    assert meld(2.0, 1.4, 1.5) == 17


def test_meld_values_below_one_are_set_to_one():
    # all -> 1.0: ln(1) = 0 -> 0.643 -> 0.6 -> 6
    assert meld(0.5, 0.9, 0.6) == 6
    assert meld(1.0, 1.0, 1.0) == 6


def test_meld_creatinine_cap_and_dialysis():
    # Cr -> 4.0: 0.957*ln(4) = 0.957*1.386294 = 1.326684 ; + 0.643 = 1.969684 -> 2.0 -> 20
    assert meld(1.0, 1.0, 4.0) == 20
    assert meld(1.0, 1.0, 6.0) == 20  # capped at 4.0
    assert meld(1.0, 1.0, 1.2, dialysis=True) == 20  # dialysis -> 4.0
    assert meld(1.0, 1.0, 0.5, dialysis=1) == 20
    # Cr 1.8 without dialysis: 0.957*0.587787 = 0.562512 ; + 0.643 = 1.205512 -> 1.2 -> 12
    assert meld(1.0, 1.0, 1.8) == 12


def test_meld_cap_40():
    # bili 40, INR 6, Cr 4: 1.326684 + 0.378*3.688879 (=1.394396) + 1.12*1.791759 (=2.006770)
    # + 0.643 = 5.370850 -> 5.4 -> 54 -> capped at 40
    assert meld(40.0, 6.0, 4.0) == 40


def test_meld_arrays_match_scalars():
    bili = np.array([2.0, 0.5, 1.0, 40.0])
    inr = np.array([1.4, 0.9, 1.0, 6.0])
    cr = np.array([1.5, 0.6, 1.2, 4.0])
    dial = np.array([False, False, True, False])
    got = meld(bili, inr, cr, dial)
    assert isinstance(got, np.ndarray)
    assert got.dtype.kind == "i"
    assert got.tolist() == [17, 6, 20, 40]
    assert [meld(bili[i], inr[i], cr[i], dial[i]) for i in range(4)] == got.tolist()
    assert isinstance(meld(2.0, 1.4, 1.5), int)


def test_meld_errors():
    with pytest.raises(ValueError, match=r"creatinine_mg_dl must be .*; got 0\.0"):
        meld(1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match=r"bilirubin_mg_dl must be .*; got nan"):
        meld(float("nan"), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"inr must be .*; got -2\.0"):
        meld(1.0, -2.0, 1.0)
    with pytest.raises(ValueError, match=r"dialysis must be True/False"):
        meld(1.0, 1.0, 1.0, dialysis=2)
    with pytest.raises(ValueError, match=r"bilirubin_mg_dl must be"):
        meld("high", 1.0, 1.0)


# ---------------------------------------------------------------------------
# MELD-Na
# ---------------------------------------------------------------------------


def test_meld_na_hand_value():
    # MELD(i) 12 (bili 1, INR 1, Cr 1.8, see above), Na 130 -> 137-130 = 7:
    # 12 + 1.32*7 - 0.033*12*7 = 12 + 9.24 - 2.772 = 18.468 -> 18
    assert meld_na(1.0, 1.0, 1.8, 130) == 18


def test_meld_na_low_meld_branch_ignores_sodium():
    # Cr 1.5: 0.388030 + 0.643 = 1.031030 -> 1.0 -> MELD(i) 10 <= 11 -> stays 10
    assert meld_na(1.0, 1.0, 1.5, 125) == 10
    # Cr 1.6: 0.957*0.470004 = 0.449794 ; + 0.643 = 1.092794 -> 1.1 -> 11 ; not > 11 -> 11
    assert meld_na(1.0, 1.0, 1.6, 125) == 11


def test_meld_na_sodium_bounds():
    # MELD(i) 17 (bili 2.0, INR 1.4, Cr 1.5). Na 120 -> 125 -> 137-125 = 12:
    # 17 + 1.32*12 - 0.033*17*12 = 17 + 15.84 - 6.732 = 26.108 -> 26
    assert meld_na(2.0, 1.4, 1.5, 120) == 26
    assert meld_na(2.0, 1.4, 1.5, 125) == 26
    # Na 140 -> 137 -> no adjustment -> 17
    assert meld_na(2.0, 1.4, 1.5, 140) == 17
    assert meld_na(2.0, 1.4, 1.5, 137) == 17


def test_meld_na_rounds_to_nearest_and_caps():
    # spec example below: 15 + 7.92 - 2.97 = 19.95 -> 20 (nearest, not truncated to 19)
    assert meld_na(2.1, 1.6, 1.1, 131) == 20
    # MELD(i) 54 (see test_meld_cap_40), Na 137 -> 54 -> capped 40 ; Na 125:
    # 54 + 15.84 - 0.033*54*12 = 54 + 15.84 - 21.384 = 48.456 -> 48 -> 40
    assert meld_na(40.0, 6.0, 4.0, 137) == 40
    assert meld_na(40.0, 6.0, 4.0, 125) == 40


def test_meld_na_dialysis():
    # dialysis -> Cr 4.0 -> MELD(i) 20 ; Na 133 -> 4: 20 + 5.28 - 0.033*20*4 = 20 + 5.28 - 2.64
    # = 22.64 -> 23
    assert meld_na(1.0, 1.0, 1.0, 133, dialysis=True) == 23


def test_meld_na_arrays_match_scalars():
    args = (np.array([1.0, 1.0, 2.0, 2.0]), np.array([1.0, 1.0, 1.4, 1.4]),
            np.array([1.8, 1.5, 1.5, 1.5]), np.array([130, 125, 120, 140]))  # fmt: skip
    got = meld_na(*args)
    assert got.tolist() == [18, 10, 26, 17]
    assert [meld_na(*(a[i] for a in args)) for i in range(4)] == got.tolist()


def test_meld_na_errors():
    with pytest.raises(ValueError, match=r"sodium must be .*; got nan"):
        meld_na(1.0, 1.0, 1.0, float("nan"))
    with pytest.raises(ValueError, match=r"sodium must be .*; got 0\.0"):
        meld_na(1.0, 1.0, 1.0, 0.0)


# ---------------------------------------------------------------------------
# MELD 3.0
# ---------------------------------------------------------------------------


def test_meld_3_floors_and_female():
    # bili/INR/Cr < 1 -> 1, Na 140 -> 137, albumin 4.0 -> 3.5: every term 0 -> 6
    assert meld_3(0.8, 0.9, 0.7, 140, 4.0, female=False) == 6
    # female: 6 + 1.33 = 7.33 -> 7
    assert meld_3(0.8, 0.9, 0.7, 140, 4.0, female=True) == 7


def test_meld_3_creatinine_cap_and_dialysis():
    # Cr -> 3.0: 11.14*ln(3) = 11.14*1.098612 = 12.238539 ; + 6 = 18.238539 -> 18
    assert meld_3(1.0, 1.0, 3.0, 137, 3.5, False) == 18
    assert meld_3(1.0, 1.0, 3.5, 137, 3.5, False) == 18  # 3.5 capped at 3.0
    assert meld_3(1.0, 1.0, 5.0, 137, 3.5, False) == 18
    assert meld_3(1.0, 1.0, 1.0, 137, 3.5, False, dialysis=True) == 18  # dialysis -> 3.0


def test_meld_3_albumin_bounds():
    # Cr 1 so the albumin x ln(Cr) interaction is 0. Albumin 1.0 -> 1.5: 3.5-1.5 = 2
    # 1.85*2 = 3.7 ; 6 + 3.7 = 9.7 -> 10
    assert meld_3(1.0, 1.0, 1.0, 137, 1.0, False) == 10
    assert meld_3(1.0, 1.0, 1.0, 137, 1.5, False) == 10
    # albumin 4.5 -> 3.5 -> 0 -> 6
    assert meld_3(1.0, 1.0, 1.0, 137, 4.5, False) == 6


def test_meld_3_sodium_bounds():
    # Na 120 -> 125: 0.82*12 = 9.84 ; bili 1 so interaction 0 ; 6 + 9.84 = 15.84 -> 16
    assert meld_3(1.0, 1.0, 1.0, 120, 3.5, False) == 16
    assert meld_3(1.0, 1.0, 1.0, 125, 3.5, False) == 16
    # Na 140 -> 137 -> 6
    assert meld_3(1.0, 1.0, 1.0, 140, 3.5, False) == 6


def test_meld_3_interaction_terms():
    # bili 4.0, Na 130 (137-130 = 7), male, INR 1, Cr 1, albumin 3.5:
    # 4.56*ln(4) = 4.56*1.386294 = 6.321502
    # 0.82*7 = 5.74
    # -0.24*7*1.386294 = -2.328974
    # 6 + 6.321502 + 5.74 - 2.328974 = 15.732528 -> 16
    assert meld_3(4.0, 1.0, 1.0, 130, 3.5, False) == 16
    # Cr 2.0, albumin 2.5 (3.5-2.5 = 1), male, bili 1, INR 1, Na 137:
    # 11.14*ln(2) = 11.14*0.693147 = 7.721658 ; 1.85*1 = 1.85 ; -1.83*1*0.693147 = -1.268459
    # 6 + 7.721658 + 1.85 - 1.268459 = 14.303199 -> 14
    assert meld_3(1.0, 1.0, 2.0, 137, 2.5, False) == 14


def test_meld_3_cap_40():
    # bili 30, INR 4, Cr 3, Na 125 (12), albumin 1.5 (2), female:
    # 1.33 + 4.56*3.401197 (=15.509460) + 0.82*12 (=9.84) - 0.24*12*3.401197 (=9.795449)
    # + 9.09*1.386294 (=12.601416) + 11.14*1.098612 (=12.238539) + 1.85*2 (=3.7)
    # - 1.83*2*1.098612 (=4.020920) + 6 = 47.403046 -> 47 -> capped 40
    assert meld_3(30.0, 4.0, 3.0, 125, 1.5, True) == 40


def test_meld_3_arrays_match_scalars():
    args = (np.array([0.8, 1.0, 4.0, 1.0]), np.array([0.9, 1.0, 1.0, 1.0]),
            np.array([0.7, 3.5, 1.0, 2.0]), np.array([140, 137, 130, 137]),
            np.array([4.0, 3.5, 3.5, 2.5]), np.array([True, False, False, False]))  # fmt: skip
    got = meld_3(*args)
    assert got.tolist() == [7, 18, 16, 14]
    assert [meld_3(*(a[i] for a in args)) for i in range(4)] == got.tolist()
    assert isinstance(meld_3(1.0, 1.0, 1.0, 137, 3.5, False), int)


def test_meld_3_errors():
    with pytest.raises(ValueError, match=r"albumin_g_dl must be .*; got -3\.0"):
        meld_3(1.0, 1.0, 1.0, 137, -3.0, False)
    with pytest.raises(ValueError, match=r"female must be True/False"):
        meld_3(1.0, 1.0, 1.0, 137, 3.5, "F")


# ---------------------------------------------------------------------------
# ALBI
# ---------------------------------------------------------------------------


def test_albi_hand_values():
    # bili 17.1 umol/L, albumin 40 g/L: log10(17.1) = 1.232996 ; 0.66*1.232996 = 0.813777
    # 0.085*40 = 3.4 ; 0.813777 - 3.4 = -2.586223 -> just above -2.60 -> grade 2
    assert albi(17.1, 40.0) == pytest.approx(-2.586223, abs=1e-6)
    assert albi_grade(albi(17.1, 40.0)) == 2
    # bili 10, albumin 45: 0.66*1 - 0.085*45 = 0.66 - 3.825 = -3.165 -> grade 1
    assert albi(10.0, 45.0) == pytest.approx(-3.165, abs=1e-12)
    assert albi_grade(-3.165) == 1


@pytest.mark.parametrize(
    ("score", "grade"),
    [(-2.61, 1), (-2.60, 1), (-2.5999, 2), (-2.0, 2), (-1.39, 2), (-1.3899, 3), (0.0, 3)],
)
def test_albi_grade_edges(score, grade):
    assert albi_grade(score) == grade


def test_albi_arrays_match_scalars():
    bili = np.array([17.1, 10.0, 35.91])
    alb = np.array([40.0, 45.0, 28.0])
    got = albi(bili, alb)
    assert isinstance(got, np.ndarray)
    assert [albi(bili[i], alb[i]) for i in range(3)] == pytest.approx(got.tolist())
    assert albi_grade(got).tolist() == [2, 1, 3]
    assert isinstance(albi(17.1, 40.0), float)
    assert isinstance(albi_grade(-3.0), int)


def test_albi_errors():
    with pytest.raises(ValueError, match=r"bilirubin_umol_l must be .*; got 0\.0"):
        albi(0.0, 40.0)
    with pytest.raises(ValueError, match=r"albumin_g_l must be .*; got nan"):
        albi(17.1, float("nan"))
    with pytest.raises(ValueError, match=r"score must be a finite ALBI score; got nan"):
        albi_grade(float("nan"))


# ---------------------------------------------------------------------------
# all_scores: the worked example from the spec
# ---------------------------------------------------------------------------


def test_all_scores_spec_example():
    # bilirubin 2.1 mg/dL, albumin 28 g/L (= 2.8 g/dL), INR 1.6, creatinine 1.1 mg/dL,
    # sodium 131, ascites mild, encephalopathy none, female.
    #
    # Child-Pugh: bili 2.1 in 2..3 -> 2 ; albumin 2.8 in 2.8..3.5 (closed) -> 2 ;
    #   INR 1.6 < 1.7 -> 1 ; ascites mild -> 2 ; encephalopathy none -> 1 ; total 8 -> B
    #
    # MELD: 0.957*ln(1.1) = 0.957*0.095310 = 0.091212
    #       0.378*ln(2.1) = 0.378*0.741937 = 0.280452
    #       1.120*ln(1.6) = 1.120*0.470004 = 0.526404
    #       + 0.643 -> 1.541068 -> tenth 1.5 -> x10 = 15
    #
    # MELD-Na: MELD(i) 15 > 11 ; 137-131 = 6 ;
    #       15 + 1.32*6 - 0.033*15*6 = 15 + 7.92 - 2.97 = 19.95 -> 20
    #
    # MELD 3.0: 1.33 (female)
    #       + 4.56*0.741937             =  3.383233
    #       + 0.82*6                    =  4.92
    #       - 0.24*6*0.741937           = -1.068389
    #       + 9.09*0.470004             =  4.272336
    #       + 11.14*0.095310            =  1.061753
    #       + 1.85*(3.5-2.8) = 1.85*0.7 =  1.295
    #       - 1.83*0.7*0.095310         = -0.122092
    #       + 6
    #       = 21.071841 -> 21
    #
    # ALBI: bilirubin 2.1*17.1 = 35.91 umol/L ; log10(35.91) = 1.555215 ;
    #       0.66*1.555215 = 1.026442 ; 0.085*28 = 2.38 ; 1.026442 - 2.38 = -1.353558
    #       > -1.39 -> grade 3
    got = all_scores(
        bilirubin=2.1, bilirubin_unit="mg/dL", albumin=28, albumin_unit="g/L", inr=1.6,
        creatinine=1.1, creatinine_unit="mg/dL", sodium=131, ascites="mild",
        encephalopathy="none", female=True,
    )  # fmt: skip
    assert set(got) == {"child_pugh_points", "child_pugh_class", "meld", "meld_na", "meld_3",
                        "albi", "albi_grade"}  # fmt: skip
    assert got["child_pugh_points"] == 8
    assert got["child_pugh_class"] == "B"
    assert got["meld"] == 15
    assert got["meld_na"] == 20
    assert got["meld_3"] == 21
    assert got["albi"] == pytest.approx(-1.353558, abs=1e-6)
    assert got["albi_grade"] == 3
    assert type(got["child_pugh_points"]) is int
    assert type(got["child_pugh_class"]) is str
    assert type(got["meld"]) is int and type(got["meld_na"]) is int
    assert type(got["meld_3"]) is int and type(got["albi_grade"]) is int
    assert type(got["albi"]) is float


def test_all_scores_si_units_give_the_same():
    # 35.91 umol/L bilirubin = 2.1 mg/dL ; 97.24 umol/L creatinine = 1.1 mg/dL ; 2.8 g/dL
    si = all_scores(35.91, "µmol/L", 2.8, "g/dL", 1.6, 97.24, "umol/L", 131, "mild", 0, True)
    assert si["child_pugh_points"] == 8
    assert (si["meld"], si["meld_na"], si["meld_3"]) == (15, 20, 21)
    assert si["albi"] == pytest.approx(-1.353558, abs=1e-6)
    assert si["albi_grade"] == 3


def test_all_scores_si_value_on_band_edge():
    # 51.3 umol/L = 3.0 mg/dL exactly -> still 2 bilirubin points (closed band) ;
    # albumin 35 g/L = 3.5 g/dL -> 2 points ; INR 1.0 -> 1 ; none/none -> 1 + 1 ; total 7 -> B
    got = all_scores(51.3, "umol/L", 35, "g/L", 1.0, 1.0, "mg/dL", 137, "none", "none", False)
    assert got["child_pugh_points"] == 7
    assert got["child_pugh_class"] == "B"


def test_all_scores_errors():
    with pytest.raises(ValueError, match="unknown bilirubin unit"):
        all_scores(2.1, "mg", 28, "g/L", 1.6, 1.1, "mg/dL", 131, "mild", "none", True)
    with pytest.raises(ValueError, match="ascites: unknown value 'some'"):
        all_scores(2.1, "mg/dL", 28, "g/L", 1.6, 1.1, "mg/dL", 131, "some", "none", True)


@pytest.mark.parametrize("unit", ["", "mg/(dL", "1/0", "mg dL", "%", None, 3])
def test_malformed_units_raise_value_error(unit):
    with pytest.raises(ValueError, match="bilirubin unit"):
        to_mg_dl_bilirubin(1.0, unit)
