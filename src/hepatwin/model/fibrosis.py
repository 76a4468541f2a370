"""Stellate-cell fates (quiescent, activated, inactivated) and collagen turnover -> CPA."""

from ..spec.model import Module
from . import sources as src
from ._decl import D, P, R, S

_HSC = "assumed: human-timescale rate; fates and inactivation/reactivation loop as in " + src.BOUGUEON_2024


def module() -> Module:
    states = [
        S("Q", "1", 0.879137, "quiescent stellate cells, fraction of the normal pool", bounds=(0, 10)),
        S("A", "1", 0.020081, "activated stellate cells (myofibroblasts), fraction of the normal pool", bounds=(0, 10)),
        S("Ia", "1", 0.0407913, "inactivated stellate cells (primed for reactivation), fraction of the normal pool",
          bounds=(0, 10)),
        S("Cs", "mg/g", 0.316106, "young, degradable collagen per gram liver", bounds=(0, 20)),
        S("Cx", "mg/g", 1.88931, "mature cross-linked collagen per gram liver", bounds=(0, 100)),
    ]
    params = [
        P("ka", 0.02, "1/day", 0.005, 0.5, _HSC, "maximal activation rate of quiescent cells"),
        P("K_tgf", 100.0, "ng/mL", 20.0, 400.0, "calibrated: healthy activated fraction about 2% of the pool",
          "TGF-beta giving half-maximal stellate activation"),
        P("a_dmg_hsc", 1.5, "1", 0.0, 3.0, "assumed: damage signals (apoptotic bodies, DAMPs) activate HSCs",
          "extra activation per unit damage"),
        P("a_sasp", 2.0, "1", 0.0, 5.0, "assumed: senescent hepatocytes are profibrotic: their secretions activate "
          "stellate cells (" + src.CARULLI_2014 + "; " + src.ARAVINTHAN_2013 + ")",
          "extra activation per unit senescent hepatocyte mass H(1 - Rc)"),
        P("kre", 0.15, "1/day", 0.01, 1.0, "assumed: inactivated cells reactivate faster than quiescent ones ("
          + src.KISSELEVA_2012 + ")", "maximal reactivation rate"),
        P("kpa", 0.01, "1/day", 0.0, 0.3, _HSC, "maximal proliferation rate of activated cells"),
        P("Nmax_hsc", 3.0, "1", 1.5, 10.0, "assumed: stellate pool expands a few-fold in cirrhosis",
          "maximal stellate pool relative to normal"),
        P("kap", 0.02, "1/day", 0.002, 0.2, "assumed: apoptosis of activated cells over weeks in regression ("
          + src.IREDALE_1998 + ")", "apoptosis rate of activated cells"),
        P("kin", 0.03, "1/day", 0.003, 0.3, "assumed: about half of myofibroblasts inactivate rather than die ("
          + src.KISSELEVA_2012 + ")", "inactivation rate when the stimulus is gone"),
        P("kapI", 0.005, "1/day", 0.0, 0.05, _HSC, "loss rate of inactivated cells"),
        P("krev", 0.003, "1/day", 0.0, 0.05, _HSC, "return of inactivated cells to quiescence"),
        P("kq", 0.01, "1/day", 0.001, 0.1, _HSC, "replenishment of the quiescent pool"),
        P("g_af_apop", 2.0, "1", 0.0, 10.0, "assumed: MSC push activated HSC to apoptosis (direction from animal studies)",
          "apoptosis increase per unit anti-fibrotic effect"),
        P("g_af_mmp", 1.5, "1", 0.0, 10.0, "assumed: MSC raise MMP-1/-13 activity (direction from animal studies)",
          "MMP activity increase per unit anti-fibrotic effect"),
        P("sC", 0.00614, "mg/g/day", 4e-4, 0.04, "calibrated: healthy collagen fractional synthesis 0.2-0.6 %/day ("
          + src.DECARIS_2015 + ")", "collagen synthesis per unit stellate drive"),
        P("c_basal", 1.2, "1", 0.1, 5.0, "assumed: basal matrix production by portal fibroblasts and quiescent cells",
          "collagen synthesis not due to activated HSC, in units of A_ref"),
        P("kdeg", 0.03, "1/day", 0.005, 0.1, "assumed: young collagen half-life about 2 months (within "
          + src.DECARIS_2015 + " range)", "degradation rate of young collagen at normal MMP/TIMP"),
        P("kx", 0.00134, "1/day", 1e-4, 0.02, "assumed: LOX/LOXL2 cross-linking over months",
          "maturation of young into cross-linked collagen"),
        P("kdx", 0.00026, "1/day", 5e-5, 0.005, "calibrated: healthy collagen 2 mg/g with 75% mature; mature half-life ~1.5 years",
          "degradation rate of mature collagen at normal MMP/TIMP"),
        P("g_m2_mmp", 0.3, "1", 0.0, 3.0, "assumed: restorative macrophages are a main MMP source ("
          + src.IREDALE_1998 + ")", "MMP increase per unit M2 excess"),
        P("g_timp", 0.8, "1", 0.0, 5.0, "assumed: TIMP-1 made by activated HSC inhibits MMPs (" + src.IREDALE_1998 + ")",
          "TIMP per unit A/A_ref"),
        P("C0", 2.0, "mg/g", 0.5, 5.0, "assumed: normalisation; healthy liver collagen of a few mg/g",
          "healthy collagen content"),
        P("cpa_per_C", 1.25, "percent/(mg/g)", 0.5, 3.0, "calibrated: healthy CPA about 2.5%; CPA 15-25% in cirrhosis (MISSION)",
          "collagen proportionate area per collagen content"),
        P("F1_cpa", 4.0, "percent", 3.0, 6.0, "assumed: CPA cut-offs read from " + src.CALVARUSO_2009,
          "CPA at METAVIR F1"),
        P("F2_cpa", 6.0, "percent", 4.0, 9.0, "assumed: CPA cut-offs read from " + src.CALVARUSO_2009, "CPA at F2"),
        P("F3_cpa", 9.0, "percent", 6.0, 12.0, "assumed: CPA cut-offs read from " + src.CALVARUSO_2009, "CPA at F3"),
        P("F4_cpa", 12.0, "percent", 9.0, 18.0, "assumed: cirrhosis when CPA >= 12% (compensated cirrhosis ~15%)",
          "CPA at F4 (cirrhosis)"),
    ]
    derived = [
        D("stim", "hill(TGFb*(1 + a_dmg_hsc*dmg + a_sasp*H*(1 - Rc)), K_tgf, 2)", "1",
          "stellate activation stimulus (damage, and the secretions of senescent hepatocytes)"),
        D("Ctot", "Cs + Cx", "mg/g", "total collagen", observable=True),
        D("fib", "max(0, Ctot/C0 - 1)", "1", "excess collagen relative to healthy"),
        D("TIMP", "1 + g_timp*A/A_ref", "1", "TIMP activity, relative"),
        D("MMP", "1 + g_m2_mmp*max(0, M2 - 1) + g_af_mmp*e_af", "1", "MMP activity, relative", observable=True),
        D("degr", "MMP/TIMP", "1", "net collagenolytic activity"),
        D("CPA", "cpa_per_C*Ctot", "percent", "collagen proportionate area", observable=True),
        D("stage", "step(CPA, F1_cpa) + step(CPA, F2_cpa) + step(CPA, F3_cpa) + step(CPA, F4_cpa)", "1",
          "METAVIR-like fibrosis stage from CPA (0-4)", observable=True),
    ]
    procs = [
        R("hsc_activation", "ka*stim*(1 - e_af)*Q", {"Q": -1, "A": 1}, "TGF-beta/damage-driven activation"),
        R("hsc_reactivation", "kre*stim*Ia", {"Ia": -1, "A": 1}, "reactivation of inactivated cells"),
        R("hsc_proliferation", "kpa*stim*A*max(0, 1 - (Q + A + Ia)/Nmax_hsc)", {"A": 1},
          "proliferation of activated cells"),
        R("hsc_apoptosis", "kap*(1 + g_af_apop*e_af)*A", {"A": -1}, "apoptosis of activated cells"),
        R("hsc_inactivation", "kin*(1 + e_af)*(1 - stim)*A", {"A": -1, "Ia": 1},
          "reversion to an inactivated phenotype"),
        R("hsc_inactive_loss", "kapI*Ia", {"Ia": -1}),
        R("hsc_requiescence", "krev*Ia", {"Ia": -1, "Q": 1}),
        R("hsc_replenish", "kq*max(0, 1 - Q - A - Ia)", {"Q": 1}, "replenishment of the quiescent pool"),
        R("collagen_synthesis", "sC*(c_basal + A/A_ref)", {"Cs": 1}),
        R("collagen_degradation", "kdeg*degr*Cs", {"Cs": -1}),
        R("collagen_crosslinking", "kx*Cs", {"Cs": -1, "Cx": 1}),
        R("mature_collagen_degradation", "kdx*degr*Cx", {"Cx": -1}),
    ]
    return Module("fibrosis", "Stellate-cell activation, inactivation and apoptosis; collagen synthesis, "
                  "cross-linking and MMP/TIMP-controlled degradation; CPA and stage.",
                  states=states, parameters=params, derived=derived, processes=procs)
