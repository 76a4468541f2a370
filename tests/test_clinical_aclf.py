"""Tests for hepatwin.clinical.aclf and hepatwin.clinical.noninvasive.

Every expected number is worked out by hand in the comments (natural logs and exponentials to 6 decimals), never by
re-running the formula under test. Band edges are tested just below and at each threshold.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from hepatwin.clinical.aclf import (
    aclf_grade,
    apasl_aclf,
    brain_score,
    circulation_score,
    clif_c_aclf,
    clif_c_ad,
    clif_c_of,
    clif_c_ofs,
    coagulation_score,
    kidney_score,
    liver_score,
    organ_failures,
    respiration_score,
    reverter_6w_mortality,
)
from hepatwin.clinical.noninvasive import (
    APRI_CIRRHOSIS_HIGH_CUTOFF,
    APRI_CIRRHOSIS_LOW_CUTOFF,
    APRI_SIGNIFICANT_FIBROSIS_HIGH_CUTOFF,
    APRI_SIGNIFICANT_FIBROSIS_LOW_CUTOFF,
    AST_ULN_DEFAULT_SOURCE,
    AST_ULN_DEFAULT_U_L,
    FIB4_HIGH_CUTOFF,
    FIB4_LOW_CUTOFF,
    apri,
    fib4,
)

# a patient with no organ dysfunction; each test changes only what it needs
NORMAL = {"bilirubin_mg_dl": 1.0, "creatinine_mg_dl": 1.0, "he_grade": 0, "inr": 1.0, "pao2_fio2": 400.0}


def _grade(**changes):
    args = {**NORMAL, **changes}
    if "spo2_fio2" in changes:
        args.pop("pao2_fio2")
    return aclf_grade(
        args.pop("bilirubin_mg_dl"), args.pop("creatinine_mg_dl"), args.pop("he_grade"), args.pop("inr"), **args
    )


# ---------------------------------------------------------------------------
# CLIF-C OF organ scores: every band edge, just below and at the threshold
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bilirubin", "expected"),
    [(0.3, 1), (5.99, 1), (6.0, 2), (11.99, 2), (12.0, 3), (30.0, 3)],
)
def test_liver_score_bands(bilirubin, expected):
    # < 6 -> 1; 6 to < 12 -> 2; >= 12 mg/dL -> 3
    assert liver_score(bilirubin) == expected


@pytest.mark.parametrize(
    ("creatinine", "rrt", "expected"),
    [
        (1.99, False, 1),
        (2.0, False, 2),
        (3.49, False, 2),
        (3.5, False, 3),
        (0.8, True, 3),  # renal replacement therapy scores 3 whatever the creatinine
        (2.5, True, 3),
    ],
)
def test_kidney_score_bands(creatinine, rrt, expected):
    # < 2 -> 1; 2 to < 3.5 -> 2; >= 3.5 mg/dL or RRT -> 3
    assert kidney_score(creatinine, rrt=rrt) == expected


@pytest.mark.parametrize(("he", "expected"), [(0, 1), (1, 2), (2, 2), (3, 3), (4, 3)])
def test_brain_score_every_grade(he, expected):
    # West-Haven 0 -> 1; 1-2 -> 2; 3-4 -> 3
    assert brain_score(he) == expected


@pytest.mark.parametrize(("inr", "expected"), [(1.0, 1), (1.99, 1), (2.0, 2), (2.49, 2), (2.5, 3), (4.0, 3)])
def test_coagulation_score_bands(inr, expected):
    # < 2.0 -> 1; 2.0 to < 2.5 -> 2; >= 2.5 -> 3
    assert coagulation_score(inr) == expected


@pytest.mark.parametrize(
    ("map_mmhg", "vaso", "expected"),
    [(90.0, False, 1), (70.0, False, 1), (69.99, False, 2), (55.0, False, 2), (90.0, True, 3), (60.0, True, 3)],
)
def test_circulation_score_bands(map_mmhg, vaso, expected):
    # MAP >= 70 -> 1; MAP < 70 -> 2; vasopressors -> 3 whatever the MAP
    assert circulation_score(map_mmhg, vasopressors=vaso) == expected


@pytest.mark.parametrize(
    ("ratio", "expected"), [(450.0, 1), (300.01, 1), (300.0, 2), (200.01, 2), (200.0, 3), (80.0, 3)]
)
def test_respiration_score_pao2_fio2_bands(ratio, expected):
    # PaO2/FiO2 > 300 -> 1; > 200 and <= 300 -> 2; <= 200 -> 3
    assert respiration_score(pao2_fio2=ratio) == expected


@pytest.mark.parametrize(
    ("ratio", "expected"), [(460.0, 1), (357.01, 1), (357.0, 2), (214.01, 2), (214.0, 3), (100.0, 3)]
)
def test_respiration_score_spo2_fio2_bands(ratio, expected):
    # SpO2/FiO2 > 357 -> 1; > 214 and <= 357 -> 2; <= 214 -> 3
    assert respiration_score(spo2_fio2=ratio) == expected


def test_the_two_oxygenation_scales_differ_between_their_thresholds():
    # 250 is a score-2 PaO2/FiO2 (200 < 250 <= 300) but a score-2 SpO2/FiO2 too (214 < 250 <= 357);
    # 210 separates them: PaO2/FiO2 210 -> 2 (> 200), SpO2/FiO2 210 -> 3 (<= 214)
    assert respiration_score(pao2_fio2=210.0) == 2
    assert respiration_score(spo2_fio2=210.0) == 3


def test_clif_c_of_organ_scores_and_total():
    # bilirubin 7 -> 2; creatinine 3.6 -> 3; HE 1 -> 2; INR 2.2 -> 2; MAP 65 -> 2; PaO2/FiO2 150 -> 3
    scores = clif_c_of(7.0, 3.6, 1, 2.2, 65.0, pao2_fio2=150.0)
    assert scores == {"liver": 2, "kidney": 3, "brain": 2, "coagulation": 2, "circulation": 2, "respiration": 3}
    # total 2 + 3 + 2 + 2 + 2 + 3 = 14
    assert clif_c_ofs(7.0, 3.6, 1, 2.2, 65.0, pao2_fio2=150.0) == 14


def test_clif_c_ofs_range_is_6_to_18():
    # all organs at score 1: 6 * 1 = 6; all at score 3: 6 * 3 = 18
    assert clif_c_ofs(1.0, 1.0, 0, 1.0, 80.0, pao2_fio2=400.0) == 6
    assert clif_c_ofs(20.0, 1.0, 4, 3.0, 50.0, rrt=True, vasopressors=True, spo2_fio2=150.0) == 18


# ---------------------------------------------------------------------------
# organ failures: kidney failure starts at 2 mg/dL although the score is 3 only from 3.5
# ---------------------------------------------------------------------------


def test_kidney_failure_at_creatinine_2_although_score_is_2():
    f = organ_failures(1.0, 2.0, 0, 1.0, pao2_fio2=400.0)
    assert f["kidney"] is True
    assert kidney_score(2.0) == 2
    assert organ_failures(1.0, 1.99, 0, 1.0, pao2_fio2=400.0)["kidney"] is False
    assert organ_failures(1.0, 0.9, 0, 1.0, rrt=True, pao2_fio2=400.0)["kidney"] is True


@pytest.mark.parametrize(
    ("changes", "organ"),
    [
        ({"bilirubin_mg_dl": 12.0}, "liver"),
        ({"he_grade": 3}, "brain"),
        ({"inr": 2.5}, "coagulation"),
        ({"vasopressors": True}, "circulation"),
        ({"pao2_fio2": 200.0}, "respiration"),
        ({"pao2_fio2": None, "spo2_fio2": 214.0}, "respiration"),
    ],
)
def test_each_single_organ_failure_and_its_neighbour_below(changes, organ):
    args = {**NORMAL, **changes}
    f = organ_failures(
        args.pop("bilirubin_mg_dl"), args.pop("creatinine_mg_dl"), args.pop("he_grade"), args.pop("inr"), **args
    )
    assert [k for k, v in f.items() if v] == [organ]


@pytest.mark.parametrize(
    "changes",
    [
        {"bilirubin_mg_dl": 11.99},
        {"he_grade": 2},
        {"inr": 2.49},
        {"pao2_fio2": 200.01},
        {"pao2_fio2": None, "spo2_fio2": 214.01},
    ],
)
def test_just_below_failure_is_no_failure(changes):
    args = {**NORMAL, **changes}
    f = organ_failures(
        args.pop("bilirubin_mg_dl"), args.pop("creatinine_mg_dl"), args.pop("he_grade"), args.pop("inr"), **args
    )
    assert not any(f.values())


# ---------------------------------------------------------------------------
# EASL-CLIF ACLF grade: every rule, with the grade-1 subtleties
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # no organ failure -> no ACLF, even with creatinine 1.9 and HE 2
        ({}, 0),
        ({"creatinine_mg_dl": 1.9, "he_grade": 2}, 0),
        # single kidney failure -> grade 1 (creatinine >= 2, or RRT at any creatinine)
        ({"creatinine_mg_dl": 2.0}, 1),
        ({"creatinine_mg_dl": 3.0}, 1),  # kidney score only 2, but a kidney failure
        ({"rrt": True}, 1),
        # single liver failure: creatinine < 1.5 and no HE -> 0; creatinine 1.5-1.9 and/or HE 1-2 -> 1
        ({"bilirubin_mg_dl": 12.0, "creatinine_mg_dl": 1.49}, 0),
        ({"bilirubin_mg_dl": 12.0, "creatinine_mg_dl": 1.5}, 1),
        ({"bilirubin_mg_dl": 12.0, "creatinine_mg_dl": 1.99}, 1),
        ({"bilirubin_mg_dl": 12.0, "he_grade": 1}, 1),
        ({"bilirubin_mg_dl": 12.0, "he_grade": 2}, 1),
        ({"bilirubin_mg_dl": 12.0, "creatinine_mg_dl": 1.7, "he_grade": 2}, 1),
        # single coagulation failure
        ({"inr": 2.5}, 0),
        ({"inr": 2.5, "creatinine_mg_dl": 1.6}, 1),
        ({"inr": 2.5, "he_grade": 1}, 1),
        # single circulatory failure
        ({"vasopressors": True}, 0),
        ({"vasopressors": True, "creatinine_mg_dl": 1.5}, 1),
        ({"vasopressors": True, "he_grade": 2}, 1),
        # single respiratory failure (both oxygenation scales)
        ({"pao2_fio2": 200.0}, 0),
        ({"pao2_fio2": 200.0, "creatinine_mg_dl": 1.8}, 1),
        ({"spo2_fio2": 214.0, "he_grade": 1}, 1),
        # single brain failure: only creatinine 1.5-1.9 makes it grade 1
        ({"he_grade": 3}, 0),
        ({"he_grade": 4, "creatinine_mg_dl": 1.49}, 0),
        ({"he_grade": 3, "creatinine_mg_dl": 1.5}, 1),
        ({"he_grade": 4, "creatinine_mg_dl": 1.9}, 1),
        # two organ failures -> grade 2, whatever creatinine and HE
        ({"bilirubin_mg_dl": 15.0, "inr": 3.0}, 2),
        ({"creatinine_mg_dl": 2.0, "he_grade": 3}, 2),
        ({"rrt": True, "vasopressors": True}, 2),
        ({"inr": 2.5, "pao2_fio2": 150.0, "creatinine_mg_dl": 1.6, "he_grade": 2}, 2),
        # three or more -> grade 3
        ({"bilirubin_mg_dl": 15.0, "inr": 3.0, "vasopressors": True}, 3),
        ({"creatinine_mg_dl": 4.0, "he_grade": 3, "pao2_fio2": 100.0, "inr": 2.6}, 3),
        (
            {"bilirubin_mg_dl": 20.0, "creatinine_mg_dl": 4.0, "he_grade": 4, "inr": 3.0, "vasopressors": True}
            | {"pao2_fio2": 100.0},
            3,
        ),
    ],
)
def test_aclf_grade_rules(changes, expected):
    assert _grade(**changes) == expected


# ---------------------------------------------------------------------------
# CLIF-C ACLF and CLIF-C AD scores
# ---------------------------------------------------------------------------


def test_clif_c_aclf_hand_values():
    # OFs 10, age 50, WBC 10: ln 10 = 2.302585; 0.63 * 2.302585 = 1.450629
    # 10 * (3.3 + 2.0 + 1.450629 - 2) = 10 * 4.750629 = 47.50629  (the sources file's 47.51)
    assert clif_c_aclf(10, 50, 10.0) == pytest.approx(47.50629, abs=1e-4)
    # OFs 6, age 60, WBC 1: ln 1 = 0; 10 * (1.98 + 2.4 + 0 - 2) = 23.8  (isolates the OFs and age terms)
    assert clif_c_aclf(6, 60, 1.0) == pytest.approx(23.8, abs=1e-9)
    # OFs 18, age 40, WBC 20: ln 20 = 2.995732; 0.63 * 2.995732 = 1.887311
    # 10 * (5.94 + 1.6 + 1.887311 - 2) = 10 * 7.427311 = 74.27311
    assert clif_c_aclf(18, 40, 20.0) == pytest.approx(74.27311, abs=1e-4)


def test_clif_c_ad_hand_values():
    # age 55, creatinine 1.0, INR 1.5, WBC 8, Na 135:
    # 0.03*55 = 1.65; 0.66*ln 1 = 0; 1.71*ln 1.5 = 1.71*0.405465 = 0.693345; 0.88*ln 8 = 0.88*2.079442 = 1.829909;
    # -0.05*135 = -6.75; sum 1.65 + 0 + 0.693345 + 1.829909 - 6.75 + 8 = 5.423254 -> 54.23254  (sources file: 54.23)
    assert clif_c_ad(55, 1.0, 1.5, 8.0, 135.0) == pytest.approx(54.23254, abs=1e-4)
    # age 60, creatinine 2.0, INR 1.0, WBC 1.0, Na 130 (isolates the creatinine term):
    # 1.8 + 0.66*0.693147 (= 0.457477) + 0 + 0 - 6.5 + 8 = 3.757477 -> 37.57477
    assert clif_c_ad(60, 2.0, 1.0, 1.0, 130.0) == pytest.approx(37.57477, abs=1e-4)


# ---------------------------------------------------------------------------
# APASL ACLF criteria
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bili", "inr", "pta", "ascites", "he", "expected"),
    [
        (5.0, 1.5, None, True, False, True),  # both thresholds met exactly, ascites
        (4.99, 1.5, None, True, False, False),  # bilirubin just below 5
        (5.0, 1.49, None, True, False, False),  # INR just below 1.5
        (8.0, 2.0, None, False, True, True),  # encephalopathy alone suffices
        (8.0, 2.0, None, True, True, True),
        (8.0, 2.0, None, False, False, False),  # neither ascites nor encephalopathy
        (6.0, None, 39.9, True, False, True),  # prothrombin activity below 40 %
        (6.0, None, 40.0, True, False, False),  # 40 % is not < 40 %
        (6.0, 1.2, 30.0, True, False, True),  # with both, either coagulopathy criterion counts
        (6.0, 1.2, 45.0, True, False, False),
    ],
)
def test_apasl_aclf(bili, inr, pta, ascites, he, expected):
    assert apasl_aclf(bili, ascites, he, inr=inr, pta_percent=pta) is expected


# ---------------------------------------------------------------------------
# Reverter 2014: p = 1 / (1 + exp(5.312 - 0.207 * MELD))
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meld", "expected"),
    [
        # 5.312 - 0.207*11 = 3.035; exp(3.035) = e^3 * e^0.035 = 20.085537 * 1.035620 = 20.800979; 1/21.800979
        (11, 0.045870),
        # 5.312 - 0.207*19 = 1.379; exp(1.379) = e * e^0.379 = 2.718282 * 1.460823 = 3.970929; 1/4.970929
        (19, 0.201170),
        # 5.312 - 0.207*25 = 0.137; exp(0.137) = 1.146828; 1/2.146828
        (25, 0.465803),
    ],
)
def test_reverter_hand_values(meld, expected):
    assert reverter_6w_mortality(meld) == pytest.approx(expected, abs=2e-6)


def test_reverter_matches_the_abstract_statements():
    # "MELD values of 19 or greater predicted 20% or greater mortality, MELD scores less than 11 predicted less than 5%"
    assert reverter_6w_mortality(19) >= 0.20
    assert reverter_6w_mortality(10.99) < 0.05
    # monotone in MELD
    p = reverter_6w_mortality(np.arange(6, 41))
    assert np.all(np.diff(p) > 0)


# ---------------------------------------------------------------------------
# FIB-4 and APRI
# ---------------------------------------------------------------------------


def test_fib4_hand_values():
    # 55 * 40 / (150 * sqrt 30) = 2200 / (150 * 5.477226) = 2200 / 821.583880 = 2.677755
    assert fib4(55, 40.0, 30.0, 150.0) == pytest.approx(2.677755, abs=1e-5)
    # 50 * 100 / (100 * sqrt 25) = 5000 / 500 = 10 (the root is on ALT, not AST)
    assert fib4(50, 100.0, 25.0, 100.0) == pytest.approx(10.0, abs=1e-12)


def test_fib4_cutoffs_are_sterling_2006():
    assert (FIB4_LOW_CUTOFF, FIB4_HIGH_CUTOFF) == (1.45, 3.25)


def test_apri_hand_values():
    # (80 / 40) * 100 / 100 = 2.0
    assert apri(80.0, 100.0, 40.0) == pytest.approx(2.0, abs=1e-12)
    # default ULN 40: (60 / 40) * 100 / 150 = 1.5 * 100 / 150 = 1.0
    assert apri(60.0, 150.0) == pytest.approx(1.0, abs=1e-12)
    # IFCC ULN 34: (68 / 34) * 100 / 200 = 2 * 0.5 = 1.0
    assert apri(68.0, 200.0, 34.0) == pytest.approx(1.0, abs=1e-12)


def test_apri_defaults_and_cutoffs_are_sourced():
    assert AST_ULN_DEFAULT_U_L == 40.0
    assert AST_ULN_DEFAULT_SOURCE.startswith("assumed:")
    assert (APRI_SIGNIFICANT_FIBROSIS_LOW_CUTOFF, APRI_SIGNIFICANT_FIBROSIS_HIGH_CUTOFF) == (0.5, 1.5)
    assert (APRI_CIRRHOSIS_LOW_CUTOFF, APRI_CIRRHOSIS_HIGH_CUTOFF) == (1.0, 2.0)


# ---------------------------------------------------------------------------
# vectorised input equals element-wise results
# ---------------------------------------------------------------------------


def test_vectorised_equals_elementwise():
    rng = np.random.default_rng(20)
    n = 400
    bili = rng.uniform(0.3, 25.0, n)
    cr = rng.uniform(0.5, 4.5, n)
    he = rng.integers(0, 5, n)
    inr = rng.uniform(0.9, 3.5, n)
    map_ = rng.uniform(50.0, 100.0, n)
    rrt = rng.random(n) < 0.1
    vaso = rng.random(n) < 0.15
    pf = rng.uniform(80.0, 480.0, n)
    age = rng.uniform(25.0, 80.0, n)
    wbc = rng.uniform(1.0, 30.0, n)
    na = rng.uniform(120.0, 145.0, n)
    meld = rng.uniform(6.0, 40.0, n)
    ast = rng.uniform(15.0, 300.0, n)
    alt = rng.uniform(10.0, 300.0, n)
    plt = rng.uniform(30.0, 350.0, n)
    ascites = rng.random(n) < 0.5
    enc = rng.random(n) < 0.3

    grades = aclf_grade(bili, cr, he, inr, rrt=rrt, vasopressors=vaso, pao2_fio2=pf)
    ofs = clif_c_ofs(bili, cr, he, inr, map_, rrt=rrt, vasopressors=vaso, pao2_fio2=pf)
    organs = clif_c_of(bili, cr, he, inr, map_, rrt=rrt, vasopressors=vaso, pao2_fio2=pf)
    fails = organ_failures(bili, cr, he, inr, rrt=rrt, vasopressors=vaso, pao2_fio2=pf)
    aclf = clif_c_aclf(ofs, age, wbc)
    ad = clif_c_ad(age, cr, inr, wbc, na)
    apasl = apasl_aclf(bili, ascites, enc, inr=inr)
    rev = reverter_6w_mortality(meld)
    f4 = fib4(age, ast, alt, plt)
    ap = apri(ast, plt)
    assert set(np.unique(grades)) == {0, 1, 2, 3}  # the sample exercises every grade

    for i in range(n):
        kw = {"rrt": bool(rrt[i]), "vasopressors": bool(vaso[i]), "pao2_fio2": float(pf[i])}
        assert grades[i] == aclf_grade(bili[i], cr[i], int(he[i]), inr[i], **kw)
        assert ofs[i] == clif_c_ofs(bili[i], cr[i], int(he[i]), inr[i], map_[i], **kw)
        one = clif_c_of(bili[i], cr[i], int(he[i]), inr[i], map_[i], **kw)
        assert {k: int(v[i]) for k, v in organs.items()} == one
        assert {k: bool(v[i]) for k, v in fails.items()} == organ_failures(bili[i], cr[i], int(he[i]), inr[i], **kw)
        assert aclf[i] == clif_c_aclf(int(ofs[i]), age[i], wbc[i])
        assert ad[i] == clif_c_ad(age[i], cr[i], inr[i], wbc[i], na[i])
        assert apasl[i] == apasl_aclf(bili[i], bool(ascites[i]), bool(enc[i]), inr=inr[i])
        assert rev[i] == reverter_6w_mortality(meld[i])
        assert f4[i] == fib4(age[i], ast[i], alt[i], plt[i])
        assert ap[i] == apri(ast[i], plt[i])


def test_patients_by_days_arrays_keep_their_shape():
    # 2 patients x 3 days; a per-patient flag (shape (2, 1)) broadcasts over days
    bili = np.array([[1.0, 13.0, 13.0], [1.0, 1.0, 20.0]])
    inr = np.array([[1.0, 1.0, 2.6], [1.0, 2.6, 2.6]])
    vaso = np.array([[False], [True]])
    g = aclf_grade(bili, 1.0, 0, inr, vasopressors=vaso, pao2_fio2=400.0)
    # patient 1: none -> 0; liver alone with creatinine 1.0, HE 0 -> 0; liver + coagulation -> 2
    # patient 2: circulation alone -> 0; circulation + coagulation -> 2; + liver -> 3
    assert g.shape == (2, 3)
    assert g.tolist() == [[0, 0, 2], [0, 2, 3]]
    scores = clif_c_of(bili, 1.0, 0, inr, 80.0, vasopressors=vaso, pao2_fio2=400.0)
    assert all(v.shape == (2, 3) for v in scores.values())
    assert scores["brain"].tolist() == [[1, 1, 1], [1, 1, 1]]  # a scalar input broadcast to the common shape


def test_scalar_input_returns_plain_python_types():
    assert type(aclf_grade(1.0, 1.0, 0, 1.0, pao2_fio2=400.0)) is int
    assert type(clif_c_ofs(1.0, 1.0, 0, 1.0, 80.0, pao2_fio2=400.0)) is int
    assert type(clif_c_aclf(8, 50, 10.0)) is float
    assert type(reverter_6w_mortality(15)) is float
    assert type(apasl_aclf(6.0, True, False, inr=2.0)) is bool
    assert type(fib4(50, 40.0, 40.0, 200.0)) is float


# ---------------------------------------------------------------------------
# impossible input: one clear ValueError naming the argument, the value and what is expected
# ---------------------------------------------------------------------------


def _raises(fn, *args, name, value, expected, **kwargs):
    with pytest.raises(ValueError) as err:
        fn(*args, **kwargs)
    msg = str(err.value)
    assert name in msg, msg
    assert value in msg, msg
    assert re.search(expected, msg), msg


def test_negative_bilirubin():
    _raises(liver_score, -1.0, name="bilirubin_mg_dl", value="-1.0", expected="bilirubin > 0 mg/dL")
    _raises(
        aclf_grade, [1.0, -2.5], 1.0, 0, 1.0, pao2_fio2=400.0,
        name="bilirubin_mg_dl", value="-2.5", expected="> 0 mg/dL",
    )  # fmt: skip
    _raises(apasl_aclf, -6.0, True, True, inr=2.0, name="bilirubin_mg_dl", value="-6.0", expected="> 0 mg/dL")


@pytest.mark.parametrize("wbc", [0.0, -3.0])
def test_wbc_not_positive_for_the_logarithm(wbc):
    _raises(clif_c_aclf, 10, 50, wbc, name="wbc_10e9_l", value=repr(wbc), expected="> 0 x 10\\^9/L.*logarithm")
    _raises(clif_c_ad, 50, 1.0, 1.2, wbc, 135.0, name="wbc_10e9_l", value=repr(wbc), expected="logarithm")


@pytest.mark.parametrize("he", [5, -1, 2.5])
def test_he_grade_outside_0_to_4(he):
    expected = "West-Haven encephalopathy grade, an integer from 0 to 4"
    _raises(brain_score, he, name="he_grade", value=repr(float(he)), expected=expected)
    _raises(
        aclf_grade, 1.0, 1.0, [0, he], 1.0, pao2_fio2=400.0, name="he_grade", value=repr(float(he)), expected="0 to 4"
    )


@pytest.mark.parametrize("ratio", [0.0, -150.0])
def test_oxygenation_ratio_not_positive(ratio):
    _raises(respiration_score, pao2_fio2=ratio, name="pao2_fio2", value=repr(ratio), expected="PaO2/FiO2 ratio > 0")
    _raises(respiration_score, spo2_fio2=ratio, name="spo2_fio2", value=repr(ratio), expected="SpO2/FiO2 ratio > 0")
    _raises(
        organ_failures, 1.0, 1.0, 0, 1.0, pao2_fio2=ratio, name="pao2_fio2", value=repr(ratio), expected="ratio > 0"
    )


def test_exactly_one_oxygenation_ratio():
    _raises(respiration_score, name="pao2_fio2", value="neither", expected="exactly one")
    _raises(respiration_score, pao2_fio2=300.0, spo2_fio2=300.0, name="spo2_fio2", value="both", expected="exactly one")


def test_other_impossible_inputs():
    _raises(clif_c_aclf, 5, 50, 10.0, name="clif_c_of_score", value="5.0", expected="integer from 6 to 18")
    _raises(clif_c_aclf, 10.5, 50, 10.0, name="clif_c_of_score", value="10.5", expected="integer from 6 to 18")
    _raises(clif_c_aclf, 10, 0, 10.0, name="age_years", value="0.0", expected="age in years")
    _raises(clif_c_aclf, 10, 18250, 10.0, name="age_years", value="18250.0", expected="<= 120")
    _raises(clif_c_ad, 50, 0.0, 1.2, 8.0, 135.0, name="creatinine_mg_dl", value="0.0", expected="logarithm")
    _raises(clif_c_ad, 50, 1.0, float("nan"), 8.0, 135.0, name="inr", value="nan", expected="finite INR > 0")
    _raises(kidney_score, 1.0, rrt=2, name="rrt", value="2", expected="True/False")
    _raises(circulation_score, -70.0, name="map_mmhg", value="-70.0", expected="mean arterial pressure > 0 mmHg")
    _raises(reverter_6w_mortality, 5.0, name="meld", value="5.0", expected="MELD score >= 6")
    _raises(reverter_6w_mortality, -10, name="meld", value="-10.0", expected="MELD score >= 6")
    _raises(apasl_aclf, 6.0, True, True, name="inr", value="neither", expected="pta_percent")
    _raises(apasl_aclf, 6.0, True, True, pta_percent=-5.0, name="pta_percent", value="-5.0", expected="> 0 %")
    _raises(fib4, 50, 40.0, 40.0, 0.0, name="platelets_10e9_l", value="0.0", expected="platelet count > 0")
    _raises(fib4, 50, 40.0, -1.0, 150.0, name="alt_u_l", value="-1.0", expected="ALT > 0 U/L")
    _raises(apri, 40.0, 150.0, 0.0, name="ast_uln_u_l", value="0.0", expected="upper limit of normal > 0")
