"""Etiology-specific chronic injury and its cause control (antivirals, abstinence, UDCA...)."""

from ..spec.model import Module
from ._decl import D, P

#: etiology name -> (indicator parameter, injury-rate parameter, cause-control therapy, efficacy parameter)
ETIOLOGIES: dict[str, tuple[str, str, str, str]] = {
    "HBV": ("etio_HBV", "k_inj_HBV", "antiviral", "eff_NA"),
    "HCV": ("etio_HCV", "k_inj_HCV", "antiviral", "eff_DAA"),
    "alcohol": ("etio_ALD", "k_inj_ALD", "abstinence", "eff_abstinence"),
    "MASLD": ("etio_MASLD", "k_inj_MASLD", "lifestyle", "eff_lifestyle"),
    "autoimmune": ("etio_AIH", "k_inj_AIH", "udca", "eff_UDCA"),
}

_ETIO_SRC = "assumed: indicator set from the scenario's etiology (exactly one is 1)"
_RATE_SRC = "calibrated: F0 to cirrhosis (CPA >= 12%) after about 20-30 years of untreated injury at injury_scale 1"


def module() -> Module:
    params = [
        P("inj_scale", 1.0, "1", 0.0, 5.0,
          "assumed: patient-specific injury intensity; 1 = typical progressor",
          "multiplies the etiology's injury rate"),
        P("ctl", 0.0, "1", 0.0, 1.0,
          "assumed: therapy switch set by scenario events (0 before, 1 after cause control starts)",
          "cause control active", constant=False),
        P("chol_AIH", 1.0, "1", 0.0, 4.0,
          "assumed: cholestatic excess bilirubin of autoimmune/biliary disease, relative to Bil0",
          "cholestasis intensity in autoimmune/PBC disease"),
    ]
    terms = []
    for etio, (flag, rate, _therapy, eff) in ETIOLOGIES.items():
        params.append(P(flag, 0.0, "1", 0.0, 1.0, _ETIO_SRC, f"1 if the etiology is {etio}"))
        terms.append(f"{flag}*{rate}*(1 - ctl*{eff})")
    params += [
        P("k_inj_HBV", 0.9e-3, "1/day", 2e-4, 5e-3, _RATE_SRC, "excess hepatocyte death rate, chronic HBV"),
        P("k_inj_HCV", 0.9e-3, "1/day", 2e-4, 5e-3, _RATE_SRC, "excess hepatocyte death rate, chronic HCV"),
        P("k_inj_ALD", 1.0e-3, "1/day", 2e-4, 5e-3, _RATE_SRC, "excess hepatocyte death rate, alcohol"),
        P("k_inj_MASLD", 0.65e-3, "1/day", 1e-4, 5e-3,
          "assumed: slower than viral injury; MASH progresses about one stage per 7 years",
          "excess hepatocyte death rate, MASLD/MASH"),
        P("k_inj_AIH", 0.9e-3, "1/day", 2e-4, 5e-3, _RATE_SRC, "excess hepatocyte death rate, autoimmune/PBC"),
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
        P("eff_UDCA", 0.6, "1", 0.2, 0.9,
          "assumed: UDCA/immunosuppression response in about two thirds of patients",
          "fraction of autoimmune/PBC injury removed by therapy"),
    ]
    derived = [
        D("inj", "inj_scale*(" + " + ".join(terms) + ")", "1/day",
          "excess per-capita hepatocyte death rate caused by the etiology", observable=True),
        D("chol", "etio_AIH*chol_AIH*(1 - ctl*eff_UDCA)", "1",
          "cholestatic bilirubin excess (autoimmune/biliary disease only)"),
    ]
    return Module("injury", "Chronic injury by etiology and its cause control.",
                  parameters=params, derived=derived)
