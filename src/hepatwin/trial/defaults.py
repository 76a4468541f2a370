"""Default trial-layer parameters (assay noise, dropout, adverse events, transplantation), each sourced.

A protocol may override any of them; the override must carry its own source.
"""

from __future__ import annotations

from ..model.catalog import LABS

#: total observation CV of each lab (analytical and within-subject biological variation combined), declared with
#: the lab in the model's catalog
ASSAY_CV: dict[str, dict] = {name: lab.assay_cv() for name, lab in LABS.items()}

DROPOUT_PER_YEAR: dict = dict(value=0.05, unit="1/year", low=0.0, high=0.3,
                              source="assumed: small single-centre cell-therapy trials lose few patients to "
                                     "follow-up; exponential dropout at 5%/year")

ADVERSE_EVENTS: dict[str, dict] = {
    # 1-(1-p)^3 = 0.70 for three infusions gives p ~ 0.33
    "grade12_per_infusion": dict(value=0.35, low=0.05, high=0.6, unit="1/infusion",
                                 source="calibrated: grade 1-2 adverse events in over 70% of patients after three "
                                        "infusions in the reference trial (doi:10.4240/wjgs.v17.i9.109980)"),
    "serious_per_infusion": dict(value=0.01, low=0.0, high=0.1, unit="1/infusion",
                                 source="assumed: serious infusion-related events are rare; meta-analysis of 55 RCTs "
                                        "found no excess acute infusional toxicity other than fever (Thompson 2020 "
                                        "doi:10.1016/j.eclinm.2019.100249)"),
}

TRANSPLANT: dict = {
    "meld_threshold": 15.0,
    "rate_per_year": dict(value=0.05, unit="1/year", low=0.0, high=0.5,
                          source="assumed: low transplant rate among listed patients in a cell-therapy trial "
                                 "population (organ shortage); set per protocol"),
}
