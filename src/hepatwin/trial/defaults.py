"""Default trial-layer parameters (assay noise, dropout, adverse events, transplantation), each sourced.

A protocol may override any of them; the override must carry its own source.
"""

from __future__ import annotations

_HENRIKSEN = "Henriksen 2014 doi:10.3109/00365513.2014.928940"

#: total observation CV of each lab (analytical and within-subject biological variation combined)
ASSAY_CV: dict[str, dict] = {
    "Alb": dict(value=0.035, low=0.02, high=0.08, source="assumed: analytical CV 0.9% (" + _HENRIKSEN + ") plus within-subject "
                "biological CV ~3% and day-to-day variation in sick patients"),
    "PTA": dict(value=0.06, low=0.03, high=0.12, source="assumed: prothrombin time within-subject CV 3.2% (Zengi 2023 "
                "doi:10.1515/tjb-2023-0155) plus analytical variation and instability in cirrhosis"),
    "INR": dict(value=0.05, low=0.02, high=0.10, source="assumed: INR analytical plus within-subject CV ~4-5%"),
    "Bil": dict(value=0.20, low=0.10, high=0.35, source="assumed: analytical CV 3.2% (" + _HENRIKSEN + "); bilirubin has large "
                "within-subject variation (~20%)"),
    "Cr": dict(value=0.07, low=0.04, high=0.12, source="assumed: analytical CV 1.3% (" + _HENRIKSEN + ") plus within-subject CV ~5%"),
    "Na": dict(value=0.008, low=0.004, high=0.02, source="assumed: analytical CV 0.7% (" + _HENRIKSEN + "); within-subject CV ~1%"),
    "IL8": dict(value=0.25, low=0.10, high=0.50, source="assumed: immunoassay CV ~10% and large day-to-day "
                "variation of circulating cytokines"),
    "IL6": dict(value=0.25, low=0.10, high=0.50, source="assumed: as IL-8"),
    "TNF": dict(value=0.25, low=0.10, high=0.50, source="assumed: as IL-8"),
    "IL10": dict(value=0.25, low=0.10, high=0.50, source="assumed: as IL-8"),
    "Asc": dict(value=0.30, low=0.10, high=0.60, source="assumed: ascites volume estimated by ultrasound is coarse"),
    "HVPG": dict(value=0.10, low=0.05, high=0.20, source="assumed: HVPG repeat-measurement variability ~1-2 mmHg"),
    "CPA": dict(value=0.25, low=0.10, high=0.50, source="assumed: biopsy sampling error of CPA is large"),
}

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
