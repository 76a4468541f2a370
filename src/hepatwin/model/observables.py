"""Clinical read-outs: albumin, clotting (PTA/INR), bilirubin, creatinine, sodium, ascites,
encephalopathy. Scores (MELD, Child-Pugh, ...) are computed from these by `hepatwin.clinical`."""

from ..clinical.ranges import LAB_RANGES
from ..spec.model import Module
from ._decl import D, P, R, S

_LAB = "assumed: healthy adult reference value"


def module() -> Module:
    states = [
        S("Alb", "g/L", 41.8324, "serum albumin", bounds=LAB_RANGES["albumin"][:2]),
        S("PTA", "percent", 99.396, "prothrombin activity (Quick %)", bounds=(5, 150)),
        S("Asc", "L", 0.000112106, "ascites volume", bounds=(0, 30)),
    ]
    params = [
        P("w_perf", 0.5, "1", 0.0, 1.0, "assumed: half of synthetic function depends on sinusoidal exchange",
          "weight of perfusion in hepatic function"),
        P("Alb0", 42.0, "g/L", 35.0, 50.0, _LAB, "healthy serum albumin"),
        P("k_alb", 0.0347, "1/day", 0.02, 0.06, "assumed: albumin half-life about 20 days (MISSION; reviews give "
          "12-25 days)", "albumin elimination rate"),
        P("g_alb", 0.35, "1", 0.1, 1.5, "calibrated: albumin ~28-32 g/L in decompensated cirrhosis",
          "sensitivity of albumin synthesis to hepatic function"),
        P("s_alb_il6", 0.05, "1", 0.0, 1.0, "assumed: IL-6 down-regulates albumin (negative acute-phase protein)",
          "albumin synthesis suppression per unit relative IL-6 excess"),
        P("Alb_floor", 10.0, "g/L", 10.0, 10.0, "assumed: numerical floor of the oncotic term of ascites formation "
          "(serum albumin below 10 g/L is hardly seen in living patients; keeps the term finite when a liver is "
          "destroyed within a history)", "albumin floor of ascites formation"),
        P("PTA0", 100.0, "percent", 80.0, 120.0, _LAB, "healthy prothrombin activity"),
        P("PTA_floor", 5.0, "percent", 5.0, 5.0, "assumed: numerical floor of the INR relation (PTA 5% is INR "
          "about 10 with the default reagent; keeps the INR finite when clotting-factor synthesis stops)",
          "prothrombin-activity floor of the INR"),
        P("k_pta", 0.5, "1/day", 0.2, 3.0, "assumed: lumped clotting factors (VII 4-6 h, II 60-72 h half-life)",
          "clotting-factor elimination rate"),
        P("g_pta", 0.6, "1", 0.2, 1.5, "calibrated: PTA ~50-65% (INR ~1.5) in decompensated cirrhosis",
          "sensitivity of clotting-factor synthesis to hepatic function"),
        P("pt_a", 6.0, "s", 1.0, 15.0, "assumed: generic thromboplastin, PT = a + 100 b / PTA with PT 12 s at 100%",
          "reagent constant a"),
        P("pt_b", 6.0, "s", 1.0, 15.0, "assumed: generic thromboplastin, PT = a + 100 b / PTA with PT 12 s at 100%",
          "reagent constant b"),
        P("isi", 1.0, "1", 0.9, 2.5, "assumed: international sensitivity index of a modern reagent",
          "reagent ISI"),
        P("Bil0", 10.0, "umol/L", 3.0, 20.0, _LAB, "healthy total bilirubin"),
        P("g_bil", 1.4, "1", 0.5, 3.0, "calibrated: bilirubin ~30-50 umol/L in decompensated cirrhosis",
          "sensitivity of bilirubin clearance to hepatic function"),
        P("Fn_min", 0.05, "1", 0.01, 0.2, "assumed: numerical floor of hepatic function for clearance",
          "floor of function in the bilirubin relation"),
        P("umol_per_mgdl_bil", 17.1, "umol/L", 17.1, 17.1, "assumed: clinical convention, bilirubin 1 mg/dL = 17.1 umol/L",
          "bilirubin amount equal to 1 mg/dL"),
        P("Cr0", 75.0, "umol/L", 50.0, 110.0, _LAB, "healthy serum creatinine"),
        P("k_cr", 0.6, "1", 0.0, 3.0, "assumed: renal hypoperfusion with large ascites (hepatorenal physiology)",
          "maximal relative creatinine rise"),
        P("K_cr_asc", 6.0, "L", 1.0, 20.0, "assumed: creatinine rises with refractory-size ascites",
          "ascites volume of half-maximal creatinine rise"),
        P("k_hrs", 4.0, "1", 0.0, 8.0, "assumed: hepatorenal physiology; with ascites and advanced liver failure "
          "creatinine rises to 2-4 mg/dL (kidney failure of end-stage disease)",
          "relative creatinine rise with moderate ascites at complete loss of hepatic function, half of it "
          "at grade-2 volume"),
        P("K_hrs", 0.8, "1", 0.5, 0.95, "assumed: renal vasoconstriction appears late, when most hepatic function is lost",
          "loss of hepatic function (1 - Fn) of half the hepatorenal rise"),
        P("umol_per_mgdl_cr", 88.4, "umol/L", 88.4, 88.4, "assumed: clinical convention, creatinine 1 mg/dL = 88.4 umol/L",
          "creatinine amount equal to 1 mg/dL"),
        P("Na0", 140.0, "mmol/L", 136.0, 145.0, _LAB, "healthy serum sodium"),
        P("dNa", 12.0, "mmol/L", 0.0, 25.0, "assumed: dilutional hyponatraemia with ascites",
          "maximal sodium fall"),
        P("K_na_asc", 4.0, "L", 0.5, 20.0, "assumed: ascites volume of half-maximal sodium fall",
          "ascites volume of half-maximal sodium fall"),
        P("k_af", 0.08, "L/day", 0.0, 0.5, "calibrated: moderate ascites (grade 2) at HVPG ~16-20 mmHg and albumin ~28 g/L",
          "maximal ascites formation"),
        P("K_asc_hvpg", 14.0, "mmHg", 10.0, 20.0, "assumed: ascites rarely forms below HVPG 12 mmHg",
          "HVPG of half-maximal ascites formation"),
        P("n_asc", 8.0, "1", 2.0, 12.0, "assumed: steep pressure threshold", "Hill power of ascites formation"),
        P("k_ar", 0.04, "1/day", 0.01, 0.3, "assumed: peritoneal reabsorption plus standard diuretic therapy",
          "ascites resorption rate"),
        P("asc_g1", 0.3, "L", 0.1, 1.0, "assumed: grade 1 (ultrasound-only) ascites", "volume of grade 1"),
        P("asc_g2", 1.5, "L", 0.5, 4.0, "assumed: grade 2 (moderate, visible) ascites", "volume of grade 2"),
        P("asc_g3", 6.0, "L", 3.0, 15.0, "assumed: grade 3 (large, tense) ascites", "volume of grade 3"),
        P("k_bil_ai", 0.5, "1", 0.0, 2.0, "assumed: cholestasis of sepsis and bleeding raises bilirubin by half at an "
          "insult of 1", "rise of bilirubin per unit acute insult"),
        P("k_cr_ai", 0.8, "1", 0.0, 3.0, "assumed: acute kidney injury after an infection or a bleed: creatinine "
          "about 1.8x at an insult of 1", "rise of creatinine per unit acute insult"),
        P("k_he_ai", 0.5, "1", 0.0, 2.0, "assumed: infections and bleeds precipitate encephalopathy in proportion to "
          "the loss of function", "encephalopathy propensity per unit acute insult"),
        P("K_he_hvpg", 13.0, "mmHg", 8.0, 20.0, "assumed: portosystemic shunting with portal hypertension",
          "HVPG of half-maximal shunting"),
        P("he_g1", 0.45, "1", 0.1, 0.9, "assumed: encephalopathy index thresholds", "index of HE grade 1"),
        P("he_g2", 0.6, "1", 0.1, 0.95, "assumed: encephalopathy index thresholds", "index of HE grade 2"),
        P("he_g3", 0.75, "1", 0.1, 0.98, "assumed: encephalopathy index thresholds", "index of HE grade 3"),
        P("he_g4", 0.88, "1", 0.1, 0.99, "assumed: encephalopathy index thresholds", "index of HE grade 4"),
    ]
    derived = [
        D("Fn", "max(0, H*(1 - w_perf + w_perf*perf))", "1", "hepatic synthetic/clearance function, fraction of healthy",
          observable=True),
        D("INR", "((pt_a + pt_b*PTA0/max(PTA, PTA_floor))/(pt_a + pt_b))**isi", "1", "international normalised ratio",
          observable=True),
        D("Bil", "Bil0*(1 + chol)*(1 + k_bil_ai*AI)/max(Fn, Fn_min)**g_bil", "umol/L",
          "total bilirubin (with the cholestasis of an acute insult)", observable=True),
        D("Bil_mgdl", "Bil/umol_per_mgdl_bil", "1", "total bilirubin in mg/dL (number)", observable=True),
        D("Cr", "Cr0*(1 + k_cr*hill(Asc, K_cr_asc, 2) + k_hrs*hill(Asc, asc_g2, 2)*hill(max(0, 1 - Fn), K_hrs, 8) "
          "+ k_cr_ai*AI)", "umol/L",
          "serum creatinine: renal hypoperfusion with ascites, worse as hepatic function fails (hepatorenal), and "
          "acute kidney injury after an acute insult", observable=True),
        D("Cr_mgdl", "Cr/umol_per_mgdl_cr", "1", "serum creatinine in mg/dL (number)", observable=True),
        D("Na", "Na0 - dNa*hill(Asc, K_na_asc, 1)", "mmol/L", "serum sodium", observable=True),
        D("ascites_grade", "step(Asc, asc_g1) + step(Asc, asc_g2) + step(Asc, asc_g3)", "1",
          "ascites grade 0-3", observable=True),
        D("he_index", "hill(HVPG, K_he_hvpg, 4)*max(0, 1 - Fn) + k_he_ai*AI*max(0, 1 - Fn)", "1",
          "encephalopathy propensity: shunting x loss of function, and an acute insult", observable=True),
        D("he_grade", "step(he_index, he_g1) + step(he_index, he_g2) + step(he_index, he_g3) + step(he_index, he_g4)",
          "1", "hepatic encephalopathy grade 0-4", observable=True),
    ]
    procs = [
        R("alb_synthesis", "k_alb*Alb0*Fn**g_alb/(1 + s_alb_il6*max(0, IL6/IL60 - 1))", {"Alb": 1}),
        R("alb_elimination", "k_alb*Alb", {"Alb": -1}),
        R("pta_synthesis", "k_pta*PTA0*Fn**g_pta", {"PTA": 1}),
        R("pta_elimination", "k_pta*PTA", {"PTA": -1}),
        R("ascites_formation", "k_af*hill(HVPG, K_asc_hvpg, n_asc)*Alb0/max(Alb, Alb_floor)", {"Asc": 1}),
        R("ascites_resorption", "k_ar*Asc", {"Asc": -1}),
    ]
    return Module("observables", "Labs and clinical signs derived from hepatic function and portal pressure.",
                  states=states, parameters=params, derived=derived, processes=procs)
