"""Labs trials report beyond liver function: liver enzymes, cholinesterase, blood counts and liver stiffness.

Each is read from the patient's state (no state of its own):

* ALT and AST rise with hepatocyte death above normal turnover; AST also with the loss of sinusoidal
  clearance (perfusion), so AST/ALT rises above 1 in cirrhosis;
* ALP and GGT rise with cholestasis (state Cst of the injury module: PBC, a little in AIH) and follow it
  within months of UDCA, GGT also with ongoing alcohol injury;
* cholinesterase falls with hepatic synthetic function, as albumin does;
* platelets fall with hypersplenism (portal pressure) and with thrombopoietin (synthetic function); white
  cells fall with hypersplenism and rise with an acute inflammatory insult;
* liver stiffness (transient elastography) from portal pressure and collagen (Lunova 2021).

The forms are assumptions with stated reasons unless a source is given; the validation rows check them
against published values they were not fitted to.
"""

from __future__ import annotations

from ..spec.model import Module
from . import sources as src
from ._decl import D, P
from .injury import HARMS_2020


def module() -> Module:
    params = [
        P("ALT0", 25.0, "U/L", 15.0, 35.0, src.CERIOTTI_2010 + ": reference interval 8-41 (women) / 9-59 U/L (men)",
          "ALT with normal hepatocyte turnover"),
        P("k_alt", 1.5, "1", 0.5, 5.0,
          "assumed: ALT about 1.6x normal at the damage signal of treated decompensated HBV (0.4) and 4-8x in "
          "active hepatitis (damage signal 2-5)", "rise of ALT per unit damage signal"),
        P("AST0", 22.0, "U/L", 15.0, 30.0, src.CERIOTTI_2010 + ": reference interval 11-34 U/L",
          "AST with normal turnover and perfusion"),
        P("k_ast", 1.0, "1", 0.3, 4.0, "assumed: AST rises with hepatocyte death less than ALT (AST/ALT < 1 in "
          "active hepatitis without cirrhosis)", "rise of AST per unit damage signal"),
        P("g_ast", 1.0, "1", 0.0, 2.0,
          "assumed: AST cleared by sinusoidal cells; AST/ALT rises above 1 as perfusion falls in cirrhosis",
          "exponent of the loss of AST clearance with perfusion"),
        P("ALP0", 80.0, "U/L", 40.0, 120.0, src.ANDERSEN_2026 + ": reference interval 40-120 U/L",
          "ALP without cholestasis"),
        P("k_alp", 2.435, "1", 0.5, 6.0, HARMS_2020 + ": at unit cholestasis (the median untreated patient) ALP = "
          "80 x (1 + 2.435) = 275 U/L = 2.29 x the upper limit 120 U/L", "rise of ALP per unit cholestasis"),
        P("GGT0", 25.0, "U/L", 10.0, 40.0, src.CERIOTTI_2010 + ": reference interval 6-40 U/L",
          "GGT without cholestasis or alcohol"),
        P("k_ggt", 4.0, "1", 1.0, 10.0, "assumed: GGT rises more than ALP in cholestasis (about 3x the upper limit "
          "40 U/L in the median untreated PBC patient) and tracks ALP (PMID:32777554, Gerussi 2021: GGT in PBC)",
          "rise of GGT per unit cholestasis"),
        P("k_ggt_ald", 2.0, "1", 0.0, 6.0, "assumed: ongoing drinking about triples GGT (enzyme induction)",
          "rise of GGT with uncontrolled alcohol injury"),
        P("CHE0", 7500.0, "U/L", 5000.0, 11000.0, "assumed: healthy serum cholinesterase (butyrylthiocholine "
          "method); assay-dependent, use the laboratory's interval", "cholinesterase at full synthetic function"),
        P("g_che", 1.0, "1", 0.5, 2.0, "assumed: synthesised by hepatocytes like albumin, proportional to function",
          "exponent of cholinesterase on synthetic function"),
        P("PLT0", 250.0, "1", 150.0, 400.0, "assumed: healthy platelet count (10^9/L), middle of 150-400",
          "platelets (10^9/L) without portal hypertension, full function"),
        P("s_spl", 0.6, "1", 0.2, 0.9, "assumed: hypersplenism sequesters up to 60% of platelets; with CSPH most "
          "patients are below 150 x 10^9/L (" + src.BAVENO_VII + ")", "largest share sequestered by the spleen"),
        P("K_spl", 12.0, "mmHg", 8.0, 16.0, "assumed: half of the sequestration at HVPG 12 mmHg",
          "HVPG of half-maximal hypersplenism"),
        P("g_tpo", 0.5, "1", 0.0, 1.0, "assumed: thrombopoietin is made by hepatocytes; platelets fall with "
          "function in decompensated disease (" + src.LATORRE_2016 + ")",
          "exponent of platelets on synthetic function"),
        P("WBC0", 6.5, "1", 4.0, 10.0, "assumed: healthy white cell count (10^9/L), middle of 4-10",
          "white cells (10^9/L) without hypersplenism or insult"),
        P("s_wbc", 0.4, "1", 0.1, 0.8, "assumed: hypersplenism lowers white cells less than platelets",
          "largest share of white cells sequestered"),
        P("w_wbc_ai", 0.8, "1", 0.0, 3.0, "assumed: an acute insult (bleeding, infection) raises white cells by "
          "about 80% at its peak", "rise of white cells per unit acute insult"),
        P("ls_a", 2.48, "kPa", 2.48, 2.48, src.LUNOVA_2021, "intercept of liver stiffness"),
        P("ls_b", 1.29, "kPa/mmHg", 1.29, 1.29, src.LUNOVA_2021, "liver stiffness per mmHg HVPG"),
        P("ls_c", 0.26, "kPa/percent", 0.26, 0.26, src.LUNOVA_2021, "liver stiffness per percentage point of CPA"),
        P("ls_max", 75.0, "kPa", 75.0, 75.0, "assumed: the upper limit of transient elastography",
          "highest measurable liver stiffness"),
    ]
    derived = [
        D("ALT", "ALT0*(1 + k_alt*dmg)", "U/L", "alanine aminotransferase", observable=True),
        D("AST", "AST0*(1 + k_ast*dmg)/max(perf, 0.05)**g_ast", "U/L", "aspartate aminotransferase",
          observable=True),
        D("ALP", "ALP0*(1 + k_alp*Cst)", "U/L", "alkaline phosphatase", observable=True),
        D("GGT", "GGT0*(1 + k_ggt*Cst + k_ggt_ald*etio_ALD*(1 - ctl*eff_abstinence))", "U/L",
          "gamma-glutamyl transferase", observable=True),
        D("CHE", "CHE0*max(Fn, 0.01)**g_che", "U/L", "serum cholinesterase", observable=True),
        D("PLT", "PLT0*(1 - s_spl*hill(HVPG, K_spl, 2))*max(Fn, 0.01)**g_tpo", "1", "platelets (10^9/L, number)",
          observable=True),
        D("WBC", "WBC0*(1 - s_wbc*hill(HVPG, K_spl, 2))*(1 + w_wbc_ai*AI)", "1", "white cells (10^9/L, number)",
          observable=True),
        D("LSM", "min(ls_a + ls_b*HVPG + ls_c*CPA, ls_max)", "kPa",
          "liver stiffness by elastography, from portal pressure and collagen (" + src.LUNOVA_2021 + ")",
          observable=True),
    ]
    return Module("labs", "Liver enzymes, cholinesterase, blood counts and liver stiffness from the patient's state.",
                  parameters=params, derived=derived)
