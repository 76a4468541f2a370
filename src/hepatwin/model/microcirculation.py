"""Sinusoidal endothelium, perfusion, portal pressure (HVPG)."""

from ..spec.model import Module
from . import sources as src
from ._decl import D, P, R, S


def module() -> Module:
    states = [S("E", "1", 0.993481, "sinusoidal endothelial function, fraction of healthy", bounds=(0, 1.2))]
    params = [
        P("kE", 0.05, "1/day", 0.005, 0.5, "assumed: endothelial repair over weeks", "endothelial repair rate"),
        P("kEd", 0.003, "1/day", 0.0, 0.05, "calibrated: HVPG 10-12 mmHg at compensated and ~18 at decompensated cirrhosis",
          "endothelial damage rate per unit insult"),
        P("a_E_tnf", 1.0, "1", 0.0, 5.0, "assumed: inflammatory injury to sinusoidal endothelium",
          "endothelial insult per unit relative TNF excess"),
        P("a_E_col", 1.0, "1", 0.0, 5.0, "assumed: sinusoidal capillarisation with matrix deposition",
          "endothelial insult per unit excess collagen"),
        P("r_col", 0.25, "1", 0.02, 2.0, "calibrated: HVPG vs CPA (" + src.CALVARUSO_2009 + ")",
          "intrahepatic resistance per unit excess collagen"),
        P("r_ext", 0.5, "1", 0.0, 3.0, "assumed: where hepatocytes are lost the lobule collapses and its sinusoids "
          "are destroyed (parenchymal extinction), raising intrahepatic resistance (Wanless 2020, "
          "https://ouci.dntb.gov.ua/works/4NomVk6l)", "intrahepatic resistance per unit hepatocyte mass lost"),
        P("e_tone", 0.5, "1", 0.0, 1.0, "assumed: share of resistance set by endothelial (dynamic) tone",
          "dynamic share of intrahepatic resistance"),
        P("HVPG0", 4.0, "mmHg", 1.0, 5.0, "assumed: normal HVPG 1-5 mmHg; >= 10 clinically significant ("
          + src.BOSCH_2009 + ")", "healthy HVPG"),
        P("p_col", 0.05, "1", 0.0, 0.5, "assumed: scar and capillarisation reduce hepatocyte exchange",
          "perfusion loss per unit excess collagen"),
    ]
    derived = [
        D("E_insult", "a_E_tnf*max(0, TNF/TNF0 - 1) + a_E_col*fib", "1", "insult to the endothelium"),
        D("Rint", "(1 + r_col*fib + r_ext*max(0, 1 - H))/(1 - e_tone + e_tone*E)", "1", "intrahepatic resistance, relative"),
        D("HVPG", "HVPG0*Rint", "mmHg", "hepatic venous pressure gradient", observable=True),
        D("perf", "E/(1 + p_col*fib)", "1", "effective sinusoidal perfusion, fraction of healthy", observable=True),
    ]
    procs = [
        R("endo_repair", "kE*(1 - E)*(1 + e_mc)", {"E": 1}),
        R("endo_damage", "kEd*E_insult*E", {"E": -1}),
    ]
    return Module("microcirculation", "Sinusoidal endothelial function, perfusion and portal pressure.",
                  states=states, parameters=params, derived=derived, processes=procs)
