"""Clinical events that change the patient: variceal bleeding, bacterial infection, hepatocellular carcinoma,
and the organ failures of acute-on-chronic liver failure (ACLF) that an acute insult can bring.

Each event is a trigger (spec.model.Trigger): its hazard, computed from the patient's state, accumulates
from day 0 into a cumulative hazard; the event happens where that reaches the patient's own threshold (a
draw from the patient's stream), and it can happen again. Unlike the post-hoc thresholds of the trial runner
(death, transplant, the composite decompensation), a triggered event feeds back on the state:

* variceal bleeding: none below HVPG 12 mmHg, rising above it and with the Child-Pugh class; a bleed adds
  a 6-week excess death hazard whose size follows the MELD (Reverter 2014) and an acute inflammatory insult;
* bacterial infection: more frequent with clinically evident ascites; an acute inflammatory insult;
* HBV flare (untreated hepatitis B) and alcoholic hepatitis (active drinking): an acute hepatitis (state AH)
  that kills hepatocytes for weeks, and an acute inflammatory insult;
* HCC: an etiology-specific incidence in cirrhosis (fibrosis stage 4); it does not end follow-up.

An acute insult (state AI; a bleed or an infection adds 1) raises IL-6 and IL-8, creatinine, bilirubin and
encephalopathy (observables), lowers the mean arterial pressure and the oxygenation index; the organ failures
of the CLIF-C OF score (liver, kidney, brain, coagulation, circulation, lungs) follow from these, and each
adds to the death hazard. So ACLF is not an event the model draws: it is the patient's state after an insult
on a liver that cannot absorb it, graded as the clinic grades it.
"""

from __future__ import annotations

from ..spec.model import Module, Trigger
from . import sources as src
from ._decl import D, P, R, S

YEAR = 365.25
#: 6-week mortality after a bleed: logit(p) = -5.312 + 0.207 MELD (Reverter 2014)
REVERTER_INTERCEPT, REVERTER_SLOPE = -5.312, 0.207
#: share of the post-bleed excess hazard left after 42 days (the excess is front-loaded and over by 6 weeks)
BLEED_TAIL = 0.05

#: etiology flag -> (HCC incidence in cirrhosis per year, plausible range, source)
HCC_INCIDENCE = {
    "etio_HBV": (0.0191, 0.0100, 0.060, src.KANWAL_2023 + " HBV 1.91/100 PY; " + src.HCC_TABLE_2019 + " 2.6-6.0%/y"),
    "etio_HCV": (0.0336, 0.0247, 0.080, src.KANWAL_2023 + " active HCV 3.36/100 PY (2.47-4.25); "
                 + src.HCC_TABLE_2019 + " 3-8%/y"),
    "etio_ALD": (0.0132, 0.0065, 0.068, src.KANWAL_2023 + " alcohol 1.32/100 PY (0.65-1.99); "
                 + src.HCC_TABLE_2019 + " 2.6-6.8%/y"),
    "etio_MASLD": (0.0124, 0.0074, 0.026, src.KANWAL_2023 + " MASLD 1.24/100 PY (0.74-1.73); "
                   + src.HCC_TABLE_2019 + " NASH 2.6%/y"),
    "etio_AIH": (0.0100, 0.0020, 0.018, src.HCC_TABLE_2019 + " autoimmune liver disease 0.2-1.8%/y, autoimmune "
                 "hepatitis; " + src.KANWAL_2023 + " AIH 1.31/100 PY (0.03-2.60)"),
    "etio_PBC": (0.0100, 0.0020, 0.018, src.HCC_TABLE_2019 + " autoimmune liver disease 0.2-1.8%/y, taken for "
                 "primary biliary cholangitis"),
}


def module() -> Module:
    # the cumulative hazards of rare events are only integrated (no rate reads them): their absolute tolerance is
    # 1e-6 (scale 1e3 x atol 1e-9), far below any probability they give, so a hazard's steps at clinical
    # thresholds (Child-Pugh points, ascites grade) do not hold the solver's step size down
    states = [
        S("CH_vb", "1", 0.0, "cumulative hazard of variceal bleeding since day 0", 1e3, bounds=(0, 1e6)),
        S("N_vb", "1", 0.0, "variceal bleeds since day 0", bounds=(0, 1e6)),
        S("VBr", "1", 0.0, "recency of variceal bleeding: +1 at a bleed, gone within about 6 weeks",
          bounds=(0, 1e6)),
        S("AI", "1", 0.0, "acute inflammatory insult (a bleed adds 1; it fades over days)", bounds=(0, 1e6)),
        S("CH_inf", "1", 0.0, "cumulative hazard of bacterial infection since day 0", 1e3, bounds=(0, 1e6)),
        S("N_inf", "1", 0.0, "bacterial infections since day 0", bounds=(0, 1e6)),
        S("AH", "1", 0.0, "acute hepatitis on the chronic disease (an HBV flare or alcoholic hepatitis adds 1; it "
          "fades over weeks)", bounds=(0, 1e6)),
        S("CH_flare", "1", 0.0, "cumulative hazard of an HBV flare since day 0", 1e3, bounds=(0, 1e6)),
        S("N_flare", "1", 0.0, "HBV flares since day 0", bounds=(0, 1e6)),
        S("CH_ah", "1", 0.0, "cumulative hazard of alcoholic hepatitis since day 0", 1e3, bounds=(0, 1e6)),
        S("N_ah", "1", 0.0, "episodes of alcoholic hepatitis since day 0", bounds=(0, 1e6)),
        S("CH_hcc", "1", 0.0, "cumulative hazard of hepatocellular carcinoma since day 0", 1e3, bounds=(0, 1e6)),
        S("N_hcc", "1", 0.0, "HCC diagnoses since day 0 (the first one counts)", bounds=(0, 1e6)),
    ]
    params = [
        P("hvpg_bleed", 12.0, "mmHg", 12.0, 12.0, src.GARCIA_TSAO_1985,
          "HVPG below which varices do not bleed"),
        P("h_vb", 0.15 / YEAR, "1/day", 0.05 / YEAR, 0.76 / YEAR,
          "assumed: bleeding hazard of a Child-Pugh A patient with HVPG >= hvpg_bleed + w_vb; between the 2-year "
          "bleeding of small varices, 12% (0.064/year; " + src.MERLI_2003 + ") and the top of the NIEC index, 76% "
          "in one year (" + src.NIEC_1988 + ")", "maximal variceal bleeding hazard, Child-Pugh A"),
        P("w_vb", 8.0, "mmHg", 4.0, 12.0,
          "assumed: the hazard rises over 8 mmHg above the threshold; above 12 mmHg bleeding risk is not linear in "
          "HVPG (" + src.GARCIA_TSAO_1985 + ")", "HVPG range over which the bleeding hazard rises to h_vb"),
        P("hr_vb_B", 2.0, "1", 1.0, 5.0,
          "assumed: the NIEC index of first variceal bleeding rises with the Child class (" + src.NIEC_1988
          + "); its per-class ratio is not reported on its own", "bleeding hazard ratio, Child-Pugh B vs A"),
        P("hr_vb_C", 3.5, "1", 1.0, 8.0,
          "assumed: as hr_vb_B (" + src.NIEC_1988 + ")", "bleeding hazard ratio, Child-Pugh C vs A"),
        P("k_vbr", -_ln(BLEED_TAIL) / 42.0, "1/day", 0.03, 0.2,
          "assumed: the excess mortality of a bleed is front-loaded and over by 6 weeks (" + src.REVERTER_2014
          + "); 5% of it left at day 42", "decay rate of the bleed's recency"),
        P("k_ai", 0.231, "1/day", 0.07, 0.7, "assumed: an acute insult fades with a 3-day half-life (1-10 days)",
          "decay rate of the acute inflammatory insult"),
        P("w_ai", 1.0, "1", 0.0, 5.0,
          "assumed: a bleed doubles IL-6 and IL-8 production at its peak (systemic inflammation after bleeding, "
          "the precipitant of ACLF)", "weight of the acute insult in IL-6/IL-8 production"),
        *_stream("vb", "bleed", "bleeding"),
        *_stream("hcc", "HCC", "HCC"),
        P("cp_alb_1", 35.0, "g/L", 35.0, 35.0, src.PUGH_1973, "albumin above which Child-Pugh scores 1 point"),
        P("cp_alb_2", 28.0, "g/L", 28.0, 28.0, src.PUGH_1973, "albumin below which Child-Pugh scores 3 points"),
        P("h_inf", 0.05 / YEAR, "1/day", 0.01 / YEAR, 0.2 / YEAR,
          "assumed: bacterial infection needing care, compensated cirrhosis, 5%/year (no verified per-year rate; "
          "20-34% of admissions of patients with cirrhosis involve an infection)", "infection hazard without "
          "clinically evident ascites"),
        P("hr_inf_asc", 6.0, "1", 2.0, 12.0, "assumed: about 30%/year with clinically evident ascites (spontaneous "
          "bacterial peritonitis and other infections)", "infection hazard ratio with ascites grade >= 2"),
        *_stream("inf", "infection", "infection"),
        P("h_flare", 0.1 / YEAR, "1/day", 0.02 / YEAR, 0.3 / YEAR,
          "assumed: spontaneous acute exacerbations (ALT > 5x the upper limit) of untreated chronic hepatitis B, "
          "about 10%/year; none under antiviral control", "HBV flare hazard, untreated"),
        P("h_ah", 0.05 / YEAR, "1/day", 0.01 / YEAR, 0.2 / YEAR,
          "assumed: alcoholic hepatitis in patients with alcohol-related liver disease who keep drinking, about "
          "5%/year; none after abstinence", "alcoholic hepatitis hazard, active drinking"),
        P("k_ah", 0.05, "1/day", 0.02, 0.2, "assumed: an acute hepatitis fades with a 2-week half-life (1-5 weeks)",
          "decay rate of acute hepatitis"),
        P("k_ah_inj", 0.015, "1/day", 0.003, 0.05, "assumed: a flare kills hepatocytes about 10x faster than "
          "chronic injury at its peak (ALT about 10x the upper limit)", "hepatocyte death rate per unit acute "
          "hepatitis"),
        *_stream("flare", "HBV flare", "HBV flare"),
        *_stream("ah", "alcoholic hepatitis", "alcoholic hepatitis"),
        P("MAP0", 90.0, "mmHg", 80.0, 100.0, "assumed: healthy mean arterial pressure", "mean arterial pressure"),
        P("d_map", 12.0, "mmHg", 0.0, 25.0, "assumed: splanchnic vasodilation lowers the pressure of patients with "
          "portal hypertension by about 10-15 mmHg", "largest fall of the pressure with portal hypertension"),
        P("k_map_ai", 10.0, "mmHg", 0.0, 30.0, "assumed: an insult of 1 lowers the mean arterial pressure by 10 mmHg "
          "(sepsis-like vasodilation)", "fall of the mean arterial pressure per unit insult"),
        P("PF0", 450.0, "mmHg", 400.0, 500.0, "assumed: healthy PaO2/FiO2", "oxygenation index"),
        P("k_pf_ai", 140.0, "mmHg", 0.0, 300.0, "assumed: lung injury of sepsis; failure (<= 200) beyond an insult "
          "of about 1.8", "fall of PaO2/FiO2 per unit insult"),
        P("h_of", 0.149, "1/day", 0.02, 0.3, "calibrated: 28-day mortality 33.9% of patients with ACLF ("
          + src.MOREAU_2013 + "), on the untreated cirrhosis cohort from the onset of ACLF (an insult lasts days, "
          "so each failure must weigh much)", "death hazard per organ failure"),
        P("of_bil", 12.0, "1", 12.0, 12.0, src.CLIF_C_OF, "bilirubin (mg/dL) of liver failure"),
        P("of_cr", 2.0, "1", 2.0, 2.0, src.CLIF_C_OF, "creatinine (mg/dL) of kidney failure"),
        P("of_he", 3.0, "1", 3.0, 3.0, src.CLIF_C_OF, "encephalopathy grade of brain failure"),
        P("of_inr", 2.5, "1", 2.5, 2.5, src.CLIF_C_OF, "INR of coagulation failure"),
        P("of_map", 70.0, "mmHg", 70.0, 70.0, src.CLIF_C_OF + " (pressure below 70 mmHg taken as needing "
          "vasopressors)", "mean arterial pressure of circulatory failure"),
        P("of_pf", 200.0, "mmHg", 200.0, 200.0, src.CLIF_C_OF, "PaO2/FiO2 of respiratory failure"),
        P("hr_hcc_svr", 0.51, "1", 0.3, 1.0, src.KANWAL_2023 + ": HCC incidence 1.71/100 PY after HCV cure vs "
          "3.36 with active HCV", "HCC hazard ratio once the cause is controlled (HCV cured)"),
    ]
    params += [P(f"h_hcc_{flag.removeprefix('etio_')}", rate / YEAR, "1/day", low / YEAR, high / YEAR, source,
                 f"HCC incidence in cirrhosis, {flag.removeprefix('etio_')}")
               for flag, (rate, low, high, source) in HCC_INCIDENCE.items()]
    hcc_rate = " + ".join(f"{flag}*h_hcc_{flag.removeprefix('etio_')}" for flag in HCC_INCIDENCE)
    derived = [
        D("cp_points", "5 + step(Bil_mgdl, 2) + step(Bil_mgdl, 3) + (1 - step(Alb, cp_alb_1)) + (1 - step(Alb, cp_alb_2)) "
          "+ step(INR, 1.7) + step(INR, 2.3) + step(ascites_grade, 1) + step(ascites_grade, 2) "
          "+ step(he_grade, 1) + step(he_grade, 3)", "1",
          "Child-Pugh points from bilirubin (mg/dL), albumin (g/L), INR, ascites and encephalopathy grades",
          observable=True),
        D("hazard_vb", "h_vb*min(max(HVPG - hvpg_bleed, 0)/w_vb, 1)*(1 + (hr_vb_B - 1)*step(cp_points, 7) "
          "+ (hr_vb_C - hr_vb_B)*step(cp_points, 10))", "1/day", "hazard of variceal bleeding", observable=True),
        D("hazard_vb_death",
          f"VBr*k_vbr/{1 - BLEED_TAIL!r}*log(1 + exp({REVERTER_INTERCEPT!r} + {REVERTER_SLOPE!r}*meld_cont))",
          "1/day", "excess death hazard after a bleed: over 6 weeks it adds -ln(1 - p), p = 6-week mortality at "
          "the MELD (" + src.REVERTER_2014 + ")", observable=True),
        D("hazard_inf", "h_inf*(1 + (hr_inf_asc - 1)*step(ascites_grade, 2))", "1/day",
          "hazard of a bacterial infection", observable=True),
        D("hazard_flare", "h_flare*etio_HBV*(1 - ctl)", "1/day", "hazard of an HBV flare", observable=True),
        D("hazard_ah", "h_ah*etio_ALD*(1 - ctl)", "1/day", "hazard of alcoholic hepatitis", observable=True),
        D("MAP", "MAP0 - d_map*hill(HVPG, K_spl, 2) - k_map_ai*AI", "mmHg", "mean arterial pressure",
          observable=True),
        D("PF", "PF0 - k_pf_ai*AI", "mmHg", "PaO2/FiO2 oxygenation index", observable=True),
        D("organ_failures", "step(Bil_mgdl, of_bil) + step(Cr_mgdl, of_cr) + step(he_grade, of_he) + "
          "step(INR, of_inr) + (1 - step(MAP, of_map)) + (1 - step(PF, of_pf))", "1",
          "organ failures of the CLIF-C OF score (liver, kidney, brain, coagulation, circulation, lungs)",
          observable=True),
        D("aclf_grade", "3*step(organ_failures, 3) + 2*step(organ_failures, 2)*(1 - step(organ_failures, 3)) + "
          "step(organ_failures, 1)*(1 - step(organ_failures, 2))*min(1, step(Cr_mgdl, of_cr) + "
          "(1 - step(he_grade, of_he))*min(1, step(Cr_mgdl, 1.5) + step(he_grade, 1)) + "
          "step(he_grade, of_he)*step(Cr_mgdl, 1.5))", "1",
          "ACLF grade 0-3 (EASL-CLIF): 2 or 3+ organ failures; grade 1, a single kidney failure, or a single other "
          "failure with creatinine 1.5-1.9 mg/dL or encephalopathy grade 1-2 (" + src.MOREAU_2013 + ")",
          observable=True),
        # the chronic dysfunction of end-stage disease carries its risk through the MELD term; what organ failures
        # add on top is the systemic inflammation of an acute insult (ACLF), so the excess scales with the insult
        D("hazard_of_death", "h_of*organ_failures*min(AI, 1)", "1/day",
          "excess death hazard of organ failures during an acute insult",
          observable=True),
        D("hazard_hcc", f"({hcc_rate})*(1 - ctl*etio_HCV*(1 - hr_hcc_svr))*step(stage, 4)", "1/day",
          "hazard of hepatocellular carcinoma (cirrhosis only)", observable=True),
    ]
    procs = [
        R("bleed_hazard", "hz_on*hazard_vb", {"CH_vb": 1}),
        R("bleed_recency_decay", "k_vbr*VBr", {"VBr": -1}),
        R("insult_decay", "k_ai*AI", {"AI": -1}),
        R("infection_hazard", "hz_on*hazard_inf", {"CH_inf": 1}),
        R("acute_hepatitis_decay", "k_ah*AH", {"AH": -1}),
        R("flare_hazard", "hz_on*hazard_flare", {"CH_flare": 1}),
        R("alcoholic_hepatitis_hazard", "hz_on*hazard_ah", {"CH_ah": 1}),
        R("hcc_hazard", "hz_on*hazard_hcc*(1 - step(N_hcc, 1))", {"CH_hcc": 1}),
    ]
    triggers = [
        Trigger("variceal_bleeding", watch="CH_vb", threshold="thr_vb", seed="seed_vb", counter="N_vb",
                add={"VBr": 1.0, "AI": 1.0}, description="a variceal bleed: 6-week excess mortality, acute insult"),
        Trigger("infection", watch="CH_inf", threshold="thr_inf", seed="seed_inf", counter="N_inf",
                add={"AI": 1.0}, description="a bacterial infection: an acute inflammatory insult"),
        Trigger("hbv_flare", watch="CH_flare", threshold="thr_flare", seed="seed_flare", counter="N_flare",
                add={"AH": 1.0, "AI": 1.0}, description="an HBV flare: acute hepatitis and an acute insult"),
        Trigger("alcoholic_hepatitis", watch="CH_ah", threshold="thr_ah", seed="seed_ah", counter="N_ah",
                add={"AH": 1.0, "AI": 1.0}, description="alcoholic hepatitis: acute hepatitis and an acute insult"),
        # one diagnosis per patient: the hazard stops counting after the first (hcc_hazard)
        Trigger("hcc", watch="CH_hcc", threshold="thr_hcc", seed="seed_hcc", counter="N_hcc",
                description="hepatocellular carcinoma diagnosed"),
    ]
    return Module("events", "Clinical events that change the patient: variceal bleeding, infection, HCC; the organ "
                  "failures of an acute insult.",
                  states=states, parameters=params, derived=derived, processes=procs, triggers=triggers)


def _stream(key: str, next_what: str, stream_what: str) -> list:
    """The two per-patient parameters of a state event's random thresholds: the level of the next event and
    the key of its stream (both set by the plan, engine.draws)."""
    return [P(f"thr_{key}", 1.0, "1", 0.0, 1e6, "assumed: set per patient from its stream (engine.draws)",
              f"cumulative-hazard level of the next {next_what}", constant=False),
            P(f"seed_{key}", 0.0, "1", 0.0, 2.0 ** 53, "assumed: set per patient from its stream",
              f"stream key of the {stream_what} thresholds", constant=False)]


def _ln(x: float) -> float:
    import math

    return math.log(x)
