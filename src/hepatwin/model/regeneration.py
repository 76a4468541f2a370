"""Functional hepatocyte mass: renewal, injury-driven death and space-limited proliferation."""

from ..spec.model import Module
from . import sources as src
from ._decl import D, P, R, S


def module() -> Module:
    states = [S("H", "1", 0.995727, "functional hepatocyte mass, fraction of a healthy liver", bounds=(0.05, 1.2)),
              S("Rc", "1", 1.0, "replicative capacity of hepatocytes (telomere reserve), fraction of a healthy "
                "liver's", bounds=(1e-4, 1.0))]
    params = [
        P("kd0", 5.0e-4, "1/day", 2e-4, 3e-3, "assumed: hepatocyte renewal about 17-19%/year; liver cell age "
          "< 3 years (" + src.HEINKE_2022 + ")", "baseline hepatocyte turnover"),
        P("kp", 0.08, "1/day", 0.02, 0.3, "calibrated: remnant regrowth 42% -> 51% -> 64% of volume at 1 wk -> 1 mo ("
          + src.AOKI_2011 + ")", "maximal hepatocyte proliferation rate"),
        P("phi_scar", 0.02, "g/mg", 0.0, 0.06, "assumed: scar occupies lobular space that hepatocytes cannot fill",
          "lobular space taken per mg/g excess collagen"),
        P("a_tnf", 1.0, "1", 0.0, 5.0, "assumed: TNF sensitises hepatocytes to injury-induced death",
          "amplification of injury by TNF"),
        P("K_tnf", 20.0, "pg/mL", 5.0, 100.0, "assumed: TNF level of half-maximal sensitisation", "TNF half-effect"),
        P("kd_hyp", 0.6e-3, "1/day", 0.0, 1e-2, "calibrated: decompensation years after cirrhosis without new injury",
          "hepatocyte death rate per unit perfusion deficit"),
        P("age", 50.0, "year", 18.0, 100.0, "assumed: covariate set from the scenario's patient age",
          "patient age"),
        P("kp_age", 0.01, "1/year", 0.0, 0.02, "assumed: regenerative capacity falls modestly with age (about 10% per "
          "decade from age 50)", "relative fall of proliferation capacity per year of age above 50"),
        P("age_ref", 50.0, "year", 50.0, 50.0, "assumed: reference age of kp", "reference age"),
        P("k_sen", 0.1, "1", 0.0, 1.0, "assumed: chosen, not fitted, so that injury at the typical rate spends "
          "the capacity over 20-40 years and a decompensated liver fails within years; hepatocyte telomeres "
          "shorten and senescence markers rise in cirrhosis of every cause (" + src.CARULLI_2014 + "; "
          + src.HOARE_2010 + "; " + src.ARAVINTHAN_2013 + ")",
          "e-folds of replicative capacity lost per hepatocyte division beyond normal turnover"),
        P("div_free", 0.02, "1", 0.0, 0.1, "assumed: divisions within 2% of normal turnover (the healthy liver's "
          "own small hypoxic loss) leave the capacity unchanged, so the healthy liver is a steady state",
          "relative excess of divisions over turnover that costs no capacity"),
        P("g_tgf_h", 0.5, "1", 0.0, 3.0, "assumed: TGF-beta is cytostatic for hepatocytes",
          "proliferation inhibition per unit relative TGF-beta excess"),
    ]
    derived = [
        D("kp_eff", "kp*max(0.3, 1 - kp_age*(age - age_ref))", "1/day", "age-adjusted maximal proliferation rate"),
        D("Hcap", "1/(1 - kd0/kp_eff)", "1", "carrying capacity making the healthy liver a steady state at H = 1"),
        D("space", "max(0, 1 - (H + phi_scar*max(0, Ctot - C0))/Hcap)", "1",
          "free lobular space for proliferation"),
        D("amp_tnf", "1 + a_tnf*hill(TNF, K_tnf, 1)", "1", "TNF sensitisation of injury"),
        D("hypoxia", "max(0, 1 - perf)", "1", "perfusion deficit"),
        D("death_inj", "(inj*amp_tnf + kd_hyp*hypoxia + k_ah_inj*AH)*(1 - e_acd)", "1/day",
          "per-capita hepatocyte death in excess of normal turnover (chronic injury, hypoxia, acute hepatitis)"),
        D("div", "kp_eff*Rc*space*prolif_mod", "1/day", "per-capita hepatocyte division rate", observable=True),
        D("prolif_mod", "(1 + e_rg)/(1 + g_tgf_h*max(0, TGFb/TGF0 - 1))", "1",
          "modulation of proliferation by trophic MSC factors and TGF-beta"),
    ]
    procs = [
        R("hep_proliferation", "div*H", {"H": 1}),
        # each division beyond normal turnover shortens telomeres: chronic injury spends the liver's capacity to
        # regenerate, so a liver that has compensated for decades fails from its own state (end-stage disease)
        R("hep_senescence", "k_sen*Rc*max(0, div - kd0*(1 + div_free))", {"Rc": -1},
          "loss of replicative capacity with divisions beyond normal turnover"),
        R("hep_turnover", "kd0*H", {"H": -1}, "normal hepatocyte renewal (death side)"),
        R("hep_injury_death", "death_inj*H", {"H": -1}, "death caused by injury, TNF and hypoxia"),
    ]
    return Module("regeneration", "Hepatocyte mass: normal renewal, injury/hypoxia death, proliferation "
                  "limited by space (scar) and TGF-beta.",
                  states=states, parameters=params, derived=derived, processes=procs)
