"""MSC pharmacokinetics (lung trapping, liver, spleen, clearance within days), the longer-lived
paracrine signal, and the five therapeutic mechanisms as separately switchable modules."""

from ..spec.model import DoseInput, Module
from . import sources as src
from ._decl import D, P, R, S, switch

#: cell source name -> indicator parameter
CELL_SOURCES = {"umbilical_cord": "src_UC", "bone_marrow": "src_BM", "adipose": "src_AT"}
#: the dose table: route -> fraction of an infusion entering each compartment (its rows are the routes)
DOSE_TABLE: dict[str, dict[str, str]] = {
    "peripheral_iv": {"Mlung": "f_lung_iv", "Mblood": "1 - f_lung_iv"},
    "hepatic_artery": {"Mliver": "f_liver_ha", "Mblood": "1 - f_liver_ha"},
    "portal_vein": {"Mliver": "f_liver_pv", "Mblood": "1 - f_liver_pv"},
}
ROUTES = tuple(DOSE_TABLE)

_EFF = "calibrated: albumin/PTA response pattern of the reference trial (" + src.QIN_2025 + "); first-pass values"


def kinetics() -> Module:
    states = [
        S("Mblood", "cell", 0.0, "viable MSCs in circulation", scale=1e7, bounds=(0, 1e11)),
        S("Mlung", "cell", 0.0, "viable MSCs trapped in the lungs", scale=1e7, bounds=(0, 1e11)),
        S("Mliver", "cell", 0.0, "viable MSCs in the liver", scale=1e7, bounds=(0, 1e11)),
        S("Mspleen", "cell", 0.0, "viable MSCs in the spleen", scale=1e7, bounds=(0, 1e11)),
        S("Smsc", "1", 0.0, "MSC-induced paracrine/host-response signal (outlasts the cells)", bounds=(0, 100)),
    ]
    params = [
        P("src_UC", 0.0, "1", 0.0, 1.0, "assumed: indicator set from the regimen's cell source", "umbilical cord"),
        P("src_BM", 0.0, "1", 0.0, 1.0, "assumed: indicator set from the regimen's cell source", "bone marrow"),
        P("src_AT", 0.0, "1", 0.0, 1.0, "assumed: indicator set from the regimen's cell source", "adipose tissue"),
        P("pot_UC", 1.0, "1", 0.5, 2.0, "assumed: reference potency (umbilical cord)", "secretory potency, UC-MSC"),
        P("pot_BM", 0.8, "1", 0.3, 2.0, "assumed: lower proliferative/secretory capacity of adult BM-MSC",
          "secretory potency, BM-MSC"),
        P("pot_AT", 0.9, "1", 0.3, 2.0, "assumed: AT-MSC close to UC-MSC in secretome", "secretory potency, AT-MSC"),
        P("f_lung_iv", 0.8, "1", 0.3, 0.99, "assumed: most viable cells arrest in the first capillary bed ("
          + src.EGGENHOFER_2012 + ")", "fraction of a peripheral IV dose trapped in the lungs at once"),
        P("f_liver_ha", 0.5, "1", 0.1, 0.9, "assumed: first-pass hepatic arrest after hepatic-artery infusion",
          "fraction of a hepatic-artery dose retained in the liver"),
        P("f_liver_pv", 0.6, "1", 0.1, 0.9, "assumed: portal venules arrest cells on first pass",
          "fraction of a portal-vein dose retained in the liver"),
        P("k_dist", 24.0, "1/day", 2.0, 200.0, "assumed: circulating cells arrest within an hour",
          "arrest rate of circulating cells"),
        P("fb_lung", 0.6, "1", 0.2, 0.9, "assumed: lungs receive the whole cardiac output first",
          "share of circulating cells arrested in the lungs"),
        P("fb_liver", 0.25, "1", 0.05, 0.5, "assumed: second-pass share to the liver", "share arrested in the liver"),
        P("k_lrel", 0.3, "1/day", 0.0, 2.0, "assumed: release of lung-trapped cells to liver and spleen over days ("
          + src.GHOLAMREZANEZHAD_2011 + ")", "release rate from the lungs"),
        P("kc_lung", 1.0, "1/day", 0.2, 5.0, "assumed: viable MSCs found in lungs only up to 24 h ("
          + src.EGGENHOFER_2012 + ")", "clearance of lung-trapped cells"),
        P("kc_liver", 0.5, "1/day", 0.05, 5.0, "assumed: engrafted cells lost within days", "clearance in the liver"),
        P("kc_spleen", 0.5, "1/day", 0.05, 5.0, "assumed: phagocytosed in the spleen within days",
          "clearance in the spleen"),
        P("kc_blood", 1.0, "1/day", 0.1, 10.0, "assumed: circulating cells die or are taken up within a day",
          "clearance in blood"),
        P("ksec", 0.3, "1/day", 0.01, 5.0, _EFF, "signal induction per reference cell load"),
        P("N_ref", 1e8, "cell", 1e8, 1e8, "assumed: normalisation (one reference dose of 1e8 cells)",
          "reference cell number"),
        P("w_lung", 0.7, "1", 0.0, 1.0, "assumed: lung-trapped MSCs still secrete systemic factors (TSG-6, PGE2)",
          "signal weight of lung-trapped cells"),
        P("w_liver", 1.0, "1", 0.0, 2.0, "assumed: reference weight of cells in the liver", "signal weight, liver"),
        P("w_spleen", 0.5, "1", 0.0, 1.0, "assumed: splenic cells modulate immunity, less hepatic effect",
          "signal weight, spleen"),
        P("kS", 0.05, "1/day", 0.005, 0.2, _EFF + "; effect half-life ~2 weeks",
          "decay rate of the paracrine signal"),
        P("EC50_S", 0.1, "1", 0.01, 5.0, _EFF + "; saturating dose-response (weak dose effect)",
          "signal giving half-maximal effect"),
    ]
    derived = [
        D("potency", "src_UC*pot_UC + src_BM*pot_BM + src_AT*pot_AT", "1", "potency of the administered cells"),
        # the two declared shares can together exceed 1 within their ranges (0.9 + 0.5): then they are scaled to
        # sum to 1 and the spleen takes none, instead of a negative flow to the spleen
        D("fb_sum", "max(1, fb_lung + fb_liver)", "1", "normaliser of the lung and liver shares (1 unless they "
          "exceed 1 together)"),
        D("fb_spleen", "1 - (fb_lung + fb_liver)/fb_sum", "1", "share of circulating cells arrested in the spleen"),
        D("msc_total", "Mblood + Mlung + Mliver + Mspleen", "cell", "viable MSCs in the body", observable=True),
        D("msc_sat", "Smsc/(Smsc + EC50_S)", "1", "saturating MSC effect (0-1)", observable=True),
    ]
    procs = [
        R("blood_to_lung", "k_dist*fb_lung/fb_sum*Mblood", {"Mblood": -1, "Mlung": 1}),
        R("blood_to_liver", "k_dist*fb_liver/fb_sum*Mblood", {"Mblood": -1, "Mliver": 1}),
        R("blood_to_spleen", "k_dist*fb_spleen*Mblood", {"Mblood": -1, "Mspleen": 1}),
        R("lung_release", "k_lrel*Mlung", {"Mlung": -1, "Mblood": 1}),
        R("clear_blood", "kc_blood*Mblood", {"Mblood": -1}),
        R("clear_lung", "kc_lung*Mlung", {"Mlung": -1}),
        R("clear_liver", "kc_liver*Mliver", {"Mliver": -1}),
        R("clear_spleen", "kc_spleen*Mspleen", {"Mspleen": -1}),
        R("signal_induction", "ksec*potency*(w_lung*Mlung + w_liver*Mliver + w_spleen*Mspleen)/N_ref",
          {"Smsc": 1}, "paracrine/host-response signal induced by viable MSCs"),
        R("signal_decay", "kS*Smsc", {"Smsc": -1}),
    ]
    dose = DoseInput("msc", "cell", DOSE_TABLE, "an MSC infusion, split between compartments by route")
    return Module("msc_kinetics", "MSC biodistribution and clearance by route; the paracrine signal.",
                  states=states, parameters=params, derived=derived, processes=procs, doses=[dose])


def _mechanism(name: str, sw: str, emax: str, emax_value: float, effect: str, what: str,
               extra_params=(), extra_procs=()) -> Module:
    params = [switch(sw, name),
              P(emax, emax_value, "1", 0.0, 1.0 if effect == "e_acd" else 3.0, _EFF, f"maximal {what}"),
              *extra_params]
    derived = [D(effect, f"{sw}*{emax}*msc_sat", "1", f"current {what}", observable=True)]
    return Module(name, f"MSC mechanism: {what}. Knock out with knockouts = [\"{name}\"].",
                  parameters=params, derived=derived, processes=list(extra_procs), switch=sw)


def mechanisms() -> list[Module]:
    """The five MSC mechanism modules; each can be switched off by its module name."""
    return [
        _mechanism("msc_immunomodulation", "on_im", "Emax_im", 0.8, "e_im",
                   "immunomodulation (M1 -> M2, fewer pro-inflammatory cytokines, more IL-10)"),
        _mechanism("msc_antifibrosis", "on_af", "Emax_af", 0.6, "e_af",
                   "anti-fibrotic effect (less HSC activation, more apoptosis/inactivation, more MMP)"),
        _mechanism("msc_regeneration", "on_rg", "Emax_rg", 1.0, "e_rg",
                   "trophic stimulation of hepatocyte proliferation (HGF/EGF)",
                   extra_params=[
                       P("k_diff", 0.05, "1/day", 0.0, 0.5, "assumed: rare direct differentiation of liver-resident MSCs",
                         "differentiation rate of liver-resident MSCs"),
                       P("N_hep", 2e11, "cell", 1e11, 3e11, "assumed: order of 1e11 hepatocytes in an adult liver",
                         "hepatocytes in a healthy liver"),
                   ],
                   extra_procs=[R("msc_differentiation", "on_rg*k_diff*Mliver/N_hep", {"H": 1},
                                  "direct MSC -> hepatocyte-like differentiation (tiny)")]),
        _mechanism("msc_microcirculation", "on_mc", "Emax_mc", 1.5, "e_mc",
                   "endothelial repair and better sinusoidal perfusion"),
        _mechanism("msc_anti_cell_death", "on_acd", "Emax_acd", 0.4, "e_acd",
                   "protection of hepatocytes from injury-induced death (antioxidant, anti-apoptotic)"),
    ]
