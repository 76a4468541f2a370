"""Macrophage polarisation (M1/M2) and the fast cytokines it drives."""

from ..spec.model import Module
from ._decl import D, P, R, S

_CYT_HALF = "assumed: effective circulating half-life of hours for small cytokines"
_BASE = "assumed: order of magnitude of serum levels in healthy adults (assay dependent)"


def module() -> Module:
    states = [
        S("M1", "1", 1.00831, "pro-inflammatory macrophage activity, relative to healthy", bounds=(0, 20)),
        S("M2", "1", 1.00277, "restorative macrophage activity, relative to healthy", bounds=(0, 20)),
        S("TNF", "pg/mL", 5.03325, "TNF-alpha", bounds=(0, 1000)),
        S("IL6", "pg/mL", 3.02785, "interleukin-6", bounds=(0, 10000)),
        S("IL8", "pg/mL", 10.1053, "interleukin-8 (CXCL8)", bounds=(0, 10000)),
        S("IL10", "pg/mL", 3.00582, "interleukin-10", bounds=(0, 1000)),
        S("TGFb", "ng/mL", 20.4847, "TGF-beta1", bounds=(0, 500)),
    ]
    params = [
        P("km", 0.15, "1/day", 0.05, 0.5,
          "assumed: monocyte-derived macrophage activation states persist for days", "macrophage turnover"),
        P("dmg_ref", 1e-3, "1/day", 1e-4, 1e-2,
          "assumed: excess death rate giving a unit damage signal (about twice normal turnover)",
          "reference excess hepatocyte death rate"),
        P("g_m1", 1.2, "1", 0.2, 5.0, "calibrated: cytokine elevation in decompensated cirrhosis (IL-6, TNF 3-8x)",
          "M1 recruitment per unit damage"),
        P("g_m2", 0.4, "1", 0.0, 3.0, "assumed: restorative macrophages recruited more weakly than M1",
          "M2 recruitment per unit damage"),
        P("k12", 0.6, "1/day", 0.1, 3.0, "assumed: macrophage repolarisation within days",
          "maximal M1 -> M2 repolarisation rate under full immunomodulation"),
        P("d_cyt", 8.0, "1/day", 2.0, 30.0, _CYT_HALF, "cytokine elimination rate"),
        P("TNF0", 5.0, "pg/mL", 1.0, 15.0, _BASE, "healthy TNF-alpha"),
        P("IL60", 3.0, "pg/mL", 1.0, 10.0, _BASE, "healthy IL-6"),
        P("IL80", 10.0, "pg/mL", 3.0, 30.0, _BASE, "healthy IL-8"),
        P("IL100", 3.0, "pg/mL", 1.0, 10.0, _BASE, "healthy IL-10"),
        P("TGF0", 20.0, "ng/mL", 5.0, 50.0, _BASE + " (serum TGF-beta1 includes platelet release)",
          "healthy TGF-beta1"),
        P("w_tnf", 0.2, "1", 0.0, 1.0, "assumed: share of TNF made outside macrophages", "basal TNF share"),
        P("w6d", 0.5, "1", 0.0, 3.0, "assumed: IL-6 also released by damaged hepatocytes and endothelium",
          "IL-6 per unit damage"),
        P("w8d", 0.8, "1", 0.0, 3.0, "assumed: hepatocytes release IL-8 when injured", "IL-8 per unit damage"),
        P("w10", 0.3, "1", 0.0, 1.0, "assumed: share of IL-10 made outside macrophages", "basal IL-10 share"),
        P("w6", 0.3, "1", 0.0, 1.0, "assumed: share of IL-6 made outside macrophages", "basal IL-6 share"),
        P("w8", 0.4, "1", 0.0, 1.0, "assumed: share of IL-8 made outside macrophages", "basal IL-8 share"),
        P("w_tgf", 0.5, "1", 0.0, 1.0, "assumed: platelet/basal share of serum TGF-beta", "basal TGF-beta share"),
        P("s_tnf", 0.6, "1", 0.0, 1.0, "assumed: MSC secretome (PGE2, TSG-6) lowers TNF by up to about half",
          "maximal TNF suppression by immunomodulation"),
        P("s_il6", 0.6, "1", 0.0, 1.0, "assumed: MSC lower IL-6 in ACLF/cirrhosis trials (direction only)",
          "maximal IL-6 suppression by immunomodulation"),
        P("s_il8", 0.7, "1", 0.0, 1.0, "assumed: strong enough that IL-8 falls after MSC, as reported by Qin 2025 (direction only)",
          "maximal IL-8 suppression by immunomodulation"),
        P("s_tgf", 0.4, "1", 0.0, 1.0, "assumed: weaker MSC effect on TGF-beta than on TNF",
          "maximal TGF-beta suppression by immunomodulation"),
        P("r_il10", 2.0, "1", 0.0, 5.0, "assumed: MSC raise IL-10 a few-fold in vitro and in animal models",
          "maximal IL-10 increase by immunomodulation"),
        P("w_tgf_a", 0.1, "1", 0.0, 2.0, "assumed: activated stellate cells are a major TGF-beta source",
          "TGF-beta per unit activated stellate fraction / A_ref"),
        P("A_ref", 0.1, "1", 0.01, 0.5, "assumed: normalisation of the activated stellate fraction",
          "reference activated stellate fraction"),
    ]
    derived = [
        D("dmg", "H*death_inj/dmg_ref", "1", "damage signal from excess hepatocyte death", observable=True),
        D("drive_TNF", "(w_tnf + (1 - w_tnf)*M1)*(1 - s_tnf*e_im)", "1", "TNF production, relative"),
        D("drive_IL6", "(w6 + (1 - w6)*M1 + w6d*dmg + w_ai*AI)*(1 - s_il6*e_im)", "1",
          "IL-6 production, relative (with an acute insult)"),
        D("drive_IL8", "(w8 + (1 - w8)*M1 + w8d*dmg + w_ai*AI)*(1 - s_il8*e_im)", "1",
          "IL-8 production, relative (with an acute insult)"),
        D("drive_IL10", "(w10 + (1 - w10)*M2)*(1 + r_il10*e_im)", "1", "IL-10 production, relative"),
        D("drive_TGF", "(w_tgf + (1 - w_tgf)*M1 + w_tgf_a*A/A_ref)*(1 - s_tgf*e_im)", "1",
          "TGF-beta production, relative"),
    ]
    procs = [
        R("m1_recruit", "km*(1 + g_m1*dmg)", {"M1": 1}, "recruitment/activation of M1 macrophages"),
        R("m1_resolve", "km*M1", {"M1": -1}, "resolution of M1 activity"),
        R("m1_to_m2", "k12*e_im*M1", {"M1": -1, "M2": 1}, "MSC-driven M1 -> M2 repolarisation"),
        R("m2_recruit", "km*(1 + g_m2*dmg)", {"M2": 1}, "recruitment of restorative macrophages"),
        R("m2_resolve", "km*M2", {"M2": -1}, "resolution of M2 activity"),
        R("tnf_prod", "d_cyt*TNF0*drive_TNF", {"TNF": 1}),
        R("tnf_elim", "d_cyt*TNF", {"TNF": -1}),
        R("il6_prod", "d_cyt*IL60*drive_IL6", {"IL6": 1}),
        R("il6_elim", "d_cyt*IL6", {"IL6": -1}),
        R("il8_prod", "d_cyt*IL80*drive_IL8", {"IL8": 1}),
        R("il8_elim", "d_cyt*IL8", {"IL8": -1}),
        R("il10_prod", "d_cyt*IL100*drive_IL10", {"IL10": 1}),
        R("il10_elim", "d_cyt*IL10", {"IL10": -1}),
        R("tgf_prod", "d_cyt*TGF0*drive_TGF", {"TGFb": 1}),
        R("tgf_elim", "d_cyt*TGFb", {"TGFb": -1}),
    ]
    return Module("inflammation", "Kupffer/recruited macrophages M1/M2 and cytokines TNF-a, IL-6, IL-8, IL-10, TGF-b.",
                  states=states, parameters=params, derived=derived, processes=procs)
