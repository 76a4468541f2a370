"""The model's vocabularies, in one place: etiologies, therapies, cell sources, routes, MSC mechanisms, labs,
clinical events, scores and unit factors.

Each vocabulary is declared once, next to what gives it meaning: etiologies with their injury equations
(`injury.ETIOLOGIES`), cell sources and the dose table with the MSC kinetics (`msc`), mechanisms as the
model's knock-out switches, unit factors with the conversions (`clinical.units`). The labs a trial observes
(test code, label, unit, assay CV) and the clinical events are declared here. Input schemas, trial tables,
reports and validation take their lists from this module; `tests/test_catalog.py` fails if a list anywhere
disagrees with it. Adding a lab is one `Lab(...)` row here plus its equations in the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator

from ..clinical.units import ALBUMIN_G_L_PER_G_DL, BILIRUBIN_UMOL_L_PER_MG_DL, CREATININE_UMOL_L_PER_MG_DL
from .injury import ETIOLOGIES, RETIRED_ETIOLOGIES
from .msc import CELL_SOURCES, ROUTES

#: etiology -> the cause control that treats it (therapy kind of scenarios, populations and protocols)
THERAPY_OF: dict[str, str] = {etio: therapy for etio, (_, _, therapy, _) in ETIOLOGIES.items()}
THERAPIES: tuple[str, ...] = tuple(sorted(set(THERAPY_OF.values())))
SEXES = ("female", "male")
#: acinar zone where each etiology's injury starts: periportal/interface (1: viral and autoimmune hepatitis; PBC,
#: portal/biliary) or pericentral (3: alcohol, MASLD); the tissue model draws its injury pattern from it
INJURY_ZONE: dict[str, int] = {"HBV": 1, "HCV": 1, "AIH": 1, "PBC": 1, "alcohol": 3, "MASLD": 3}

#: unit factors of the clinical conventions (the conversions in clinical/units.py use the same constants)
UNIT_FACTORS: dict[str, float] = {
    "bilirubin umol/L per mg/dL": BILIRUBIN_UMOL_L_PER_MG_DL,
    "creatinine umol/L per mg/dL": CREATININE_UMOL_L_PER_MG_DL,
    "albumin g/L per g/dL": ALBUMIN_G_L_PER_G_DL,
}

_HENRIKSEN = "Henriksen 2014 doi:10.3109/00365513.2014.928940"
_CYTOKINE_CV = dict(value=0.25, low=0.10, high=0.50)
_EUBIVAS = "doi:10.1373/clinchem.2016.269811 (Carobene 2017, EuBIVAS):"
_DESIRABLE = (" with the desirable analytical CV 0.5 x CV_I, sqrt(1 + 0.25) = 1.12; range CV_I alone to twice it "
              "(day-to-day variation in sick patients)")


@dataclass(frozen=True)
class Lab:
    """A lab (or measurement) a trial observes: the model variable it reads, its SDTM-style test code and
    label, the unit reported, and the default total observation CV (analytical plus within-subject) with its
    plausible range and source."""

    variable: str
    code: str
    label: str
    unit: str
    cv: float
    cv_low: float
    cv_high: float
    cv_source: str

    def assay_cv(self) -> dict:
        """The CV as a sourced value (value, low, high, source), the form a protocol may override."""
        return dict(value=self.cv, low=self.cv_low, high=self.cv_high, source=self.cv_source)


def _lab(variable, code, label, unit, value, low, high, source) -> Lab:
    return Lab(variable, code, label, unit, value, low, high, source)


#: the labs of virtual trials, in table order
LABS: dict[str, Lab] = {lab.variable: lab for lab in (
    _lab("Alb", "ALB", "Albumin", "g/L", 0.035, 0.02, 0.08,
         "assumed: analytical CV 0.9% (" + _HENRIKSEN + ") plus within-subject biological CV ~3% and day-to-day "
         "variation in sick patients"),
    _lab("PTA", "PTA", "Prothrombin Activity", "%", 0.06, 0.03, 0.12,
         "assumed: prothrombin time within-subject CV 3.2% (Zengi 2023 doi:10.1515/tjb-2023-0155) plus analytical "
         "variation and instability in cirrhosis"),
    _lab("INR", "INR", "Prothrombin Intl. Normalized Ratio", "1", 0.05, 0.02, 0.10,
         "assumed: INR analytical plus within-subject CV ~4-5%"),
    _lab("Bil", "BILI", "Bilirubin", "umol/L", 0.20, 0.10, 0.35,
         "assumed: analytical CV 3.2% (" + _HENRIKSEN + "); bilirubin has large within-subject variation (~20%)"),
    _lab("Cr", "CREAT", "Creatinine", "umol/L", 0.07, 0.04, 0.12,
         "assumed: analytical CV 1.3% (" + _HENRIKSEN + ") plus within-subject CV ~5%"),
    _lab("Na", "SODIUM", "Sodium", "mmol/L", 0.008, 0.004, 0.02,
         "assumed: analytical CV 0.7% (" + _HENRIKSEN + "); within-subject CV ~1%"),
    _lab("IL8", "IL8", "Interleukin 8", "pg/mL", **_CYTOKINE_CV,
         source="assumed: immunoassay CV ~10% and large day-to-day variation of circulating cytokines"),
    _lab("IL6", "IL6", "Interleukin 6", "pg/mL", **_CYTOKINE_CV, source="assumed: as IL-8"),
    _lab("TNF", "TNFA", "Tumor Necrosis Factor Alpha", "pg/mL", **_CYTOKINE_CV, source="assumed: as IL-8"),
    _lab("IL10", "IL10", "Interleukin 10", "pg/mL", **_CYTOKINE_CV, source="assumed: as IL-8"),
    _lab("Asc", "ASCVOL", "Ascites Volume", "L", 0.30, 0.10, 0.60,
         "assumed: ascites volume estimated by ultrasound is coarse"),
    _lab("HVPG", "HVPG", "Hepatic Venous Pressure Gradient", "mmHg", 0.10, 0.05, 0.20,
         "assumed: HVPG repeat-measurement variability ~1-2 mmHg"),
    _lab("CPA", "CPA", "Collagen Proportionate Area", "%", 0.25, 0.10, 0.50,
         "assumed: biopsy sampling error of CPA is large"),
    _lab("ALT", "ALT", "Alanine Aminotransferase", "U/L", 0.104, 0.093, 0.19, _EUBIVAS +
         " CV_I 9.3%; total 1.12 x CV_I" + _DESIRABLE),
    _lab("AST", "AST", "Aspartate Aminotransferase", "U/L", 0.106, 0.095, 0.19, _EUBIVAS +
         " CV_I 9.5%; total 1.12 x CV_I" + _DESIRABLE),
    _lab("ALP", "ALP", "Alkaline Phosphatase", "U/L", 0.059, 0.053, 0.11, _EUBIVAS +
         " CV_I 5.3%; total 1.12 x CV_I" + _DESIRABLE),
    _lab("GGT", "GGT", "Gamma Glutamyl Transferase", "U/L", 0.10, 0.089, 0.18, _EUBIVAS +
         " CV_I 8.9%; total 1.12 x CV_I" + _DESIRABLE),
    _lab("CHE", "CHE", "Cholinesterase", "U/L", 0.047, 0.042, 0.09, "doi:10.1515/cclm-2025-0240 (Akbulut 2025: "
         "cholinesterase CV_I 3.5% men, 4.8% women); total 1.12 x 4.2%" + _DESIRABLE),
    _lab("PLT", "PLAT", "Platelets", "10^9/L", 0.086, 0.077, 0.16, "PMID:1497462 (platelet CV_I 6.7% men, 8.6% "
         "women); total 1.12 x 7.7%" + _DESIRABLE),
    _lab("WBC", "WBC", "Leukocytes", "10^9/L", 0.149, 0.133, 0.27, "PMID:1497462 (white cell CV_I 10.8% men, "
         "15.7% women); total 1.12 x 13.3%" + _DESIRABLE),
)}
LAB_VARIABLES: tuple[str, ...] = tuple(LABS)


@dataclass(frozen=True)
class Score:
    """A clinical score computed from the labs (clinical/scores.py): unit, description, SDTM-style code."""

    name: str
    unit: str
    description: str
    code: str | None = None     # None: not reported as a lab test (a class or grade)
    label: str = ""


SCORES: dict[str, Score] = {s.name: s for s in (
    Score("child_pugh_points", "1", "Child-Pugh points (5-15)", "CPSCORE", "Child-Pugh Score"),
    Score("child_pugh_class", "1", "Child-Pugh class A/B/C"),
    Score("meld", "1", "MELD (OPTN/UNOS, rounded, 6-40)", "MELD", "MELD Score"),
    Score("meld_na", "1", "MELD-Na (OPTN 2016)", "MELDNA", "MELD-Na Score"),
    Score("meld_3", "1", "MELD 3.0 (Kim 2021)", "MELD3", "MELD 3.0 Score"),
    Score("albi", "1", "ALBI score", "ALBI", "ALBI Score"),
    Score("albi_grade", "1", "ALBI grade 1-3"),
    Score("fib4", "1", "FIB-4 index (Sterling 2006)", "FIB4", "FIB-4 Index"),
    Score("apri", "1", "AST to platelet ratio index (APRI)", "APRI", "AST to Platelet Ratio Index"),
    Score("clif_c_ad", "1", "CLIF-C AD score (Jalan 2015; decompensation without ACLF)", "CLIFCAD",
          "CLIF-C AD Score"),
    Score("clif_c_aclf", "1", "CLIF-C ACLF score (Jalan 2014; for patients with ACLF)", "CLIFCACL",
          "CLIF-C ACLF Score"),
)}
#: scores a trial observes at each visit (computed from the noisy labs), in table order; each has a test code
SCORE_VARIABLES: tuple[str, ...] = ("meld", "meld_na", "meld_3", "child_pugh_points", "albi", "fib4", "apri",
                                    "clif_c_ad", "clif_c_aclf")
#: vital signs the scores need, read from the patient's state (no assay error): mean arterial pressure and
#: PaO2/FiO2 of the CLIF-C OF score
VITALS: tuple[str, ...] = ("MAP", "PF")


@dataclass(frozen=True)
class Event:
    """A clinical event a trial can count as time to event: its ADaM parameter code and label, and how it is
    timed: `threshold`, by the trial's own Exp(1) threshold on a cumulative hazard after the run (an event
    that ends follow-up or changes nothing); `counter`, by the model state that counts it, the engine having
    fired it (a spec trigger of the same name: an event that changes the patient); `of`, a composite: the
    first of the named events. `terminal`: the event ends the patient's follow-up (after it no other event
    can be observed; it competes with every other event). `onset` = (variable, level): the event is the first
    day after baseline the variable reaches the level, in a patient below it at baseline (one at or above it
    at baseline has it already: no new event), with `onset_source` saying why that level."""

    name: str
    code: str
    label: str
    threshold: bool = True
    counter: str | None = None
    of: tuple[str, ...] = ()
    terminal: bool = False
    onset: tuple[str, float] | None = None
    onset_source: str = ""
    #: (variable, level) the patient must have reached on the day an input names this event (an ACLF
    #: precipitant needs cirrhosis)
    needs: tuple[str, float] | None = None


#: an acute insult precipitates ACLF, which in the EASL-CLIF definition (doi:10.1053/j.gastro.2013.02.042) falls on
#: cirrhosis: a scenario that gives one to a patient without it is refused
ACLF_NEEDS = ("stage", 4.0)

EVENTS: dict[str, Event] = {e.name: e for e in (
    Event("death", "OS", "Overall survival (days)", terminal=True),
    Event("decompensation", "TTDECOMP", "Time to decompensation event (days)"),
    Event("transplant", "TTTX", "Time to liver transplantation (days)", terminal=True),
    Event("variceal_bleeding", "TTVB", "Time to variceal bleeding (days)", threshold=False, counter="N_vb", needs=ACLF_NEEDS),
    Event("hcc", "TTHCC", "Time to hepatocellular carcinoma (days)", threshold=False, counter="N_hcc"),
    Event("infection", "TTINF", "Time to bacterial infection (days)", threshold=False, counter="N_inf", needs=ACLF_NEEDS),
    Event("hbv_flare", "TTFLARE", "Time to HBV flare (days)", threshold=False, counter="N_flare", needs=ACLF_NEEDS),
    Event("alcoholic_hepatitis", "TTAH", "Time to alcoholic hepatitis (days)", threshold=False, counter="N_ah", needs=ACLF_NEEDS),
    Event("aclf", "TTACLF", "Time to acute-on-chronic liver failure, EASL-CLIF grade 1 or more (days)",
          threshold=False, onset=("aclf_grade", 1.0), onset_source="doi:10.1053/j.gastro.2013.02.042 (Moreau 2013: "
          "ACLF grades by the CLIF-C OF organ failures)"),
    Event("ascites", "TTASC", "Time to clinically evident ascites (days)", threshold=False,
          onset=("ascites_grade", 2.0), onset_source="assumed: moderate ascites (grade 2), the first grade found on "
          "examination, as decompensation (D'Amico 2006, doi:10.1016/j.jhep.2005.10.013, counts clinical ascites)"),
    Event("overt_encephalopathy", "TTOHE", "Time to overt hepatic encephalopathy (days)", threshold=False,
          onset=("he_grade", 2.0), onset_source="assumed: West-Haven grade 2 or more is overt encephalopathy, the "
          "kind that counts as decompensation"),
    Event("jaundice", "TTJAUN", "Time to jaundice (days)", threshold=False, onset=("Bil_mgdl", 3.0),
          onset_source="assumed: jaundice as a decompensating event taken as bilirubin >= 3 mg/dL (51 umol/L)"),
    Event("death_or_transplant", "TFS", "Transplant-free survival (days)", threshold=False,
          of=("death", "transplant")),
    Event("first_decompensation", "TTFDEC", "Time to first decompensation by kind: ascites, variceal bleeding, "
          "overt encephalopathy or jaundice (days)", threshold=False,
          of=("ascites", "variceal_bleeding", "overt_encephalopathy", "jaundice")),
    Event("decompensation_or_death", "DFS", "Decompensation-free survival (days)", threshold=False,
          of=("decompensation", "variceal_bleeding", "death")),
    Event("hcc_or_death", "HCCFS", "HCC-free survival (days)", threshold=False, of=("hcc", "death")),
)}
#: the events the engine fires (spec triggers), by name
STATE_EVENTS: tuple[str, ...] = tuple(name for name, e in EVENTS.items() if e.counter)

def mechanisms() -> dict[str, str]:
    """Short mechanism name (as in `knockouts`) -> the model's switch parameter."""
    from . import build_model

    return {k.removeprefix("msc_"): v for k, v in build_model().switches.items()}


def _not_retired(value):
    """An etiology name inputs no longer accept (e.g. 'autoimmune') is refused with what to write instead."""
    if isinstance(value, str) and value in RETIRED_ETIOLOGIES:
        raise ValueError(f"{RETIRED_ETIOLOGIES[value]}; expected one of {', '.join(ETIOLOGIES)}")
    return value


#: an etiology of the input schemas; a retired name is refused with its replacement
EtiologyName = Annotated[Literal[tuple(ETIOLOGIES)], BeforeValidator(_not_retired)]  # type: ignore[valid-type]
TherapyName = Literal[THERAPIES]                    # type: ignore[valid-type]
CellSourceName = Literal[tuple(CELL_SOURCES)]      # type: ignore[valid-type]
RouteName = Literal[ROUTES]                         # type: ignore[valid-type]  (the dose table's rows)
EventName = Literal[tuple(EVENTS)]                  # type: ignore[valid-type]
StateEventName = Literal[STATE_EVENTS]              # type: ignore[valid-type]
SexName = Literal[SEXES]                            # type: ignore[valid-type]

__all__ = [
    "CELL_SOURCES",
    "ETIOLOGIES",
    "EVENTS",
    "LABS",
    "LAB_VARIABLES",
    "ROUTES",
    "SCORES",
    "SCORE_VARIABLES",
    "STATE_EVENTS",
    "THERAPIES",
    "THERAPY_OF",
    "UNIT_FACTORS",
    "Event",
    "Lab",
    "Score",
    "mechanisms",
]
