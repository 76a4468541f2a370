"""Etiology-specific chronic injury and its cause control (antivirals, abstinence, lifestyle, immunosuppression,
UDCA), and the cholestasis of biliary disease.

Each etiology kills hepatocytes at its own rate, reduced by its cause control (`ctl`) by the therapy's
efficacy. Primary biliary cholangitis (PBC) differs: its injury is that of retained bile acids, so it follows
the cholestasis (state `Cst`), which UDCA lowers by the patient's own response (`eff_UDCA`, spread over a
population: Barcelona responders and non-responders) within months. ALP and GGT (labs) read `Cst`; bilirubin
reads it only in advanced disease (`chol`: ductopenia), so it rises late. Autoimmune hepatitis (AIH) is
necro-inflammatory (ALT high at presentation) with little cholestasis, and responds to immunosuppression.
"""

from ..spec.model import Module
from ._decl import D, P, R, S

#: etiology name -> (indicator parameter, injury-rate parameter, cause-control therapy, efficacy parameter)
ETIOLOGIES: dict[str, tuple[str, str, str, str]] = {
    "HBV": ("etio_HBV", "k_inj_HBV", "antiviral", "eff_NA"),
    "HCV": ("etio_HCV", "k_inj_HCV", "antiviral", "eff_DAA"),
    "alcohol": ("etio_ALD", "k_inj_ALD", "abstinence", "eff_abstinence"),
    "MASLD": ("etio_MASLD", "k_inj_MASLD", "lifestyle", "eff_lifestyle"),
    "AIH": ("etio_AIH", "k_inj_AIH", "immunosuppression", "eff_IS"),
    "PBC": ("etio_PBC", "k_inj_PBC", "udca", "eff_UDCA"),
}
#: etiology names that inputs no longer accept -> what to write instead (inputs naming them are refused with it)
RETIRED_ETIOLOGIES: dict[str, str] = {
    "autoimmune": "no longer an etiology: autoimmune liver disease is now 'AIH' (autoimmune hepatitis) or 'PBC' "
                  "(primary biliary cholangitis)",
}
#: injury terms other than `flag*rate*(1 - ctl*eff)`: the bile-acid injury of PBC follows its cholestasis, which
#: UDCA lowers (so the patient's response slows progression)
_INJURY_TERM = {"PBC": "etio_PBC*k_inj_PBC*(1 + K_inj_cst)*hill(Cst, K_inj_cst, 1)"}

_ETIO_SRC = "assumed: indicator set from the scenario's etiology (exactly one is 1)"
_RATE_SRC = "calibrated: F0 to cirrhosis (CPA >= 12%) after about 20-30 years of untreated injury at injury_scale 1"
HARMS_2020 = "PMID:31843787 (Harms 2020: ALP in PBC before UDCA, median 2.29x ULN, IQR 1.41-3.95)"
PARES_2006 = ("PMID:16530513 (Pares 2006, Barcelona criteria: ALP fall > 40% or normal ALP after 1 year of UDCA in "
              "61%)")
GOEL_KIM_2018 = "PMID:30259853 (Goel & Kim 2018: about 40% of PBC patients respond incompletely to UDCA)"
LAMMERS_2014 = ("doi:10.1053/j.gastro.2014.08.029 (Lammers 2014: ALP <= 2.0x ULN after 1 year, 10-year "
                "transplant-free survival 84% vs 62%)")
CORPECHOT_2008 = ("PMID:18752324 (Corpechot 2008: Paris I responders to UDCA, 10-year transplant-free survival 90% "
                  "vs 51%)")


def module() -> Module:
    states = [
        S("Cst", "1", 0.0, "cholestasis intensity (retained bile acids; 1 = the median untreated PBC patient)", 1.0,
          bounds=(0, 20)),
    ]
    params = [
        P("inj_scale", 1.0, "1", 0.0, 5.0,
          "assumed: patient-specific injury intensity; 1 = typical progressor",
          "multiplies the etiology's injury rate"),
        P("ctl", 0.0, "1", 0.0, 1.0,
          "assumed: therapy switch set by scenario events (0 before, 1 after cause control starts)",
          "cause control active", constant=False),
    ]
    terms = []
    for etio, (flag, rate, _therapy, eff) in ETIOLOGIES.items():
        params.append(P(flag, 0.0, "1", 0.0, 1.0, _ETIO_SRC, f"1 if the etiology is {etio}"))
        terms.append(_INJURY_TERM.get(etio, f"{flag}*{rate}*(1 - ctl*{eff})"))
    params += [
        P("k_inj_HBV", 0.9e-3, "1/day", 2e-4, 5e-3, _RATE_SRC, "excess hepatocyte death rate, chronic HBV"),
        P("k_inj_HCV", 0.9e-3, "1/day", 2e-4, 5e-3, _RATE_SRC, "excess hepatocyte death rate, chronic HCV"),
        P("k_inj_ALD", 1.0e-3, "1/day", 2e-4, 5e-3, _RATE_SRC, "excess hepatocyte death rate, alcohol"),
        P("k_inj_MASLD", 0.65e-3, "1/day", 1e-4, 5e-3,
          "assumed: slower than viral injury; MASH progresses about one stage per 7 years",
          "excess hepatocyte death rate, MASLD/MASH"),
        P("k_inj_AIH", 2.0e-3, "1/day", 5e-4, 6e-3,
          "assumed: interface hepatitis more necro-inflammatory than chronic viral hepatitis: ALT several times "
          "the upper limit at presentation, and untreated disease reaches cirrhosis within about a decade",
          "excess hepatocyte death rate, autoimmune hepatitis"),
        P("k_inj_PBC", 0.9e-3, "1/day", 2e-4, 5e-3,
          "assumed: at the median cholestasis (Cst 1) and injury_scale 1 untreated PBC reaches cirrhosis in about a "
          "decade, as viral injury does in this model; the rate follows the cholestasis, so a response to UDCA "
          "slows progression (targets: " + LAMMERS_2014 + "; " + CORPECHOT_2008 + "; the example cohort "
          "pbc_udca.toml: 10-year survival 86% vs 57% by ALP <= 2x ULN at 1 year)",
          "excess hepatocyte death rate of primary biliary cholangitis (bile-acid injury) at the median "
          "cholestasis (Cst 1)"),
        P("K_inj_cst", 1.0, "1", 0.2, 5.0,
          "assumed: the bile-acid injury saturates with the cholestasis, so that ALP is a modest prognostic factor: "
          "at 4x the median cholestasis PBC progresses about 1.6x faster, not 4x",
          "cholestasis of half-maximal bile-acid injury"),
        P("eff_NA", 0.85, "1", 0.5, 0.99,
          "assumed: nucleos(t)ide analogues suppress HBV DNA in most patients; residual necroinflammation",
          "fraction of HBV injury removed by antivirals"),
        P("eff_DAA", 0.95, "1", 0.7, 1.0,
          "assumed: direct-acting antivirals cure HCV in >90% (sustained virological response)",
          "fraction of HCV injury removed by antivirals"),
        P("eff_abstinence", 0.9, "1", 0.5, 1.0,
          "assumed: sustained abstinence removes most alcohol injury",
          "fraction of alcohol injury removed by abstinence"),
        P("eff_lifestyle", 0.5, "1", 0.1, 0.9,
          "assumed: weight loss resolves MASH in a minority to half of patients",
          "fraction of MASLD injury removed by lifestyle change"),
        P("eff_IS", 0.88, "1", 0.3, 1.0,
          "assumed: prednisolone/azathioprine give a complete biochemical response (normal ALT) in about 60-84% of "
          "patients in cohort studies; 0.88 normalises ALT (<= 41 U/L) within a month in about three quarters of "
          "patients with injury_scale lognormal(1, 0.35); the rest keep some activity",
          "fraction of autoimmune-hepatitis injury (and its cholestasis) removed by immunosuppression"),
        P("eff_UDCA", 0.6, "1", 0.0, 1.0,
          "assumed: the patient's own response to UDCA; a population spreads it so that about 60% are Barcelona "
          "responders (" + PARES_2006 + ") and 40% are not (" + GOEL_KIM_2018 + "); at the median cholestasis "
          "ALP falls by 0.71 x eff_UDCA, so responders (> 40%) have eff_UDCA above about 0.56",
          "fraction of the cholestatic drive of PBC (and so of its bile-acid injury) removed by UDCA"),
        P("chol_AIH", 0.1, "1", 0.0, 1.0,
          "assumed: ALP normal or mildly raised in autoimmune hepatitis (a cholestatic picture suggests PBC or an "
          "overlap)", "cholestatic drive of autoimmune hepatitis, relative to the median untreated PBC patient"),
        P("chol_PBC", 1.0, "1", 0.05, 8.0,
          HARMS_2020 + ": 1 is the median untreated patient (ALP 2.29x ULN with k_alp); the IQR is 0.46-2.0, a "
          "lognormal spread of sigma 1.1", "cholestatic drive of primary biliary cholangitis"),
        P("k_cst", 1.0 / 45.0, "1/day", 1.0 / 120.0, 1.0 / 15.0,
          "assumed: most of the ALP fall on UDCA comes within the first 3 months (time constant about 45 days, "
          "15-120)", "rate at which the cholestasis follows its drive"),
        P("bil_cst", 1.0, "1", 0.0, 4.0,
          "assumed: bilirubin stays normal in early PBC and rises with advanced, ductopenic disease; excess "
          "about 1x Bil0 per unit cholestasis in cirrhosis (before liver failure adds its own)",
          "cholestatic bilirubin excess per unit cholestasis in advanced fibrosis"),
    ]
    derived = [
        D("inj", "inj_scale*(" + " + ".join(terms) + ")", "1/day",
          "excess per-capita hepatocyte death rate caused by the etiology", observable=True),
        D("cst_drive", "etio_PBC*chol_PBC*(1 - ctl*eff_UDCA) + etio_AIH*chol_AIH*(1 - ctl*eff_IS)", "1",
          "cholestasis the disease drives under its current therapy (the level Cst approaches)", observable=True),
        D("chol", "bil_cst*Cst*hill(CPA, F4_cpa, 4)", "1",
          "cholestatic bilirubin excess relative to Bil0: cholestasis in advanced fibrosis (ductopenia)"),
    ]
    procs = [
        R("cholestasis_build_up", "k_cst*cst_drive", {"Cst": 1}, "bile-acid retention driven by the disease"),
        R("cholestasis_clearance", "k_cst*Cst", {"Cst": -1}, "clearance of retained bile acids"),
    ]
    return Module("injury", "Chronic injury by etiology and its cause control; cholestasis of biliary disease.",
                  states=states, parameters=params, derived=derived, processes=procs)
