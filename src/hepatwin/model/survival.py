"""Survival layer: hazards of death and of (further) decompensation from the patient's state."""

from ..spec.model import Module
from . import sources as src
from ._decl import D, P, R, S


def module() -> Module:
    states = [
        S("CH_death", "1", 0.0, "cumulative hazard of death", bounds=(0, 100)),
        S("CH_decomp", "1", 0.0, "cumulative hazard of a decompensation event", bounds=(0, 100)),
    ]
    params = [
        P("h_ref", 2.7e-5, "1/day", 5e-6, 2e-3, "calibrated: annual mortality of compensated cirrhosis without "
          "varices, D'Amico clinical stage 1 (" + src.DAMICO_2006 + ")",
          "death hazard at continuous MELD 10 in compensated cirrhosis without portal hypertension"),
        P("b_meld", 0.1, "1", 0.05, 0.25, "MELD is 10x the linear predictor of the Cox model of " + src.KAMATH_2001
          + ", so one MELD point is a log hazard ratio of 0.1", "log hazard ratio per MELD point"),
        P("meld_ref", 10.0, "1", 10.0, 10.0, "assumed: reference MELD of h_ref", "reference MELD"),
        P("hvpg_csph", 10.0, "mmHg", 10.0, 12.0, "HVPG >= 10 mmHg is clinically significant portal hypertension, "
          "the proxy for varices (" + src.BOSCH_2009 + ")", "HVPG of clinically significant portal hypertension"),
        P("hr_csph", 2.5, "1", 1.0, 10.0, "calibrated: annual mortality with varices and no ascites, D'Amico "
          "clinical stage 2 (" + src.DAMICO_2006 + ")",
          "hazard ratio with HVPG >= hvpg_csph and no ascites, at the same MELD"),
        P("hr_asc", 16.0, "1", 2.0, 40.0, "calibrated: median survival about 2 years after decompensation (ascites, "
          "D'Amico clinical stage 3; " + src.DAMICO_2006 + ")", "hazard ratio with ascites (grade >= 1), at the same MELD"),
        P("hr_he", 2.6, "1", 1.7, 3.8, src.STEWART_2007, "hazard ratio with encephalopathy grade >= 2, at the same MELD"),
        P("hz_on", 1.0, "1", 0.0, 1.0, "assumed: switch; hazards accumulate from baseline (day 0), not during the "
          "burn-in history", "1 while event hazards are being counted", constant=False),
        P("h_dec", 2.0e-4, "1/day", 1e-5, 2e-3, "assumed: ~7%/year first decompensation at HVPG well above 10 mmHg ("
          + src.DAMICO_2006 + ")", "maximal decompensation hazard"),
        P("K_dec", 12.0, "mmHg", 8.0, 16.0, "assumed: risk rises above HVPG 10-12 mmHg (" + src.BOSCH_2009 + ")",
          "HVPG of half-maximal decompensation hazard"),
    ]
    derived = [
        D("meld_cont", "3.78*log(max(Bil_mgdl, 1)) + 11.2*log(max(INR, 1)) + 9.57*log(min(max(Cr_mgdl, 1), 4)) + 6.43",
          "1", "continuous (unrounded) MELD used in the hazard link (" + src.KAMATH_2001 + ")", observable=True),
        D("stage_hazard_ratio", "1 + (hr_csph - 1)*step(HVPG, hvpg_csph)*(1 - step(Asc, asc_g1)) + "
          "(hr_asc - 1)*step(Asc, asc_g1)", "1",
          "hazard ratio of the clinical stage (D'Amico 1: 1, 2: hr_csph, 3: hr_asc)"),
        D("hazard_death", "h_ref*exp(b_meld*(meld_cont - meld_ref))*stage_hazard_ratio*(1 + (hr_he - 1)*step(he_grade, 2))"
          " + hazard_vb_death + hazard_of_death", "1/day",
          "instantaneous hazard of death (with a bleed's 6-week excess and that of organ failures)",
          observable=True),
        D("hazard_decomp", "h_dec*hill(HVPG, K_dec, 6)", "1/day", "instantaneous hazard of decompensation",
          observable=True),
        D("survival", "exp(-CH_death)", "1", "probability of survival since baseline (day 0)", observable=True),
    ]
    procs = [
        R("death_hazard", "hz_on*hazard_death", {"CH_death": 1}),
        R("decomp_hazard", "hz_on*hazard_decomp", {"CH_decomp": 1}),
    ]
    return Module("survival", "Hazards of death (MELD, clinical stage and encephalopathy) and decompensation (HVPG-linked).",
                  states=states, parameters=params, derived=derived, processes=procs)
