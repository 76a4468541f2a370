"""The model's vocabularies are declared once (hepatwin.model.catalog) and every list elsewhere agrees with it:
input schemas, trial tables and defaults, results, the tissue model and the model itself."""

import typing

import pytest

from hepatwin.clinical import units
from hepatwin.model import build_model, catalog
from hepatwin.population.config import PopulationConfig
from hepatwin.results import SCORES as RESULT_SCORES
from hepatwin.scenario import ClinicalEvent, Patient, Regimen, Therapy
from hepatwin.tissue import geometry
from hepatwin.trial import protocol, tables
from hepatwin.trial.defaults import ASSAY_CV


def _literal(model, field) -> tuple:
    ann = model.model_fields[field].annotation
    args = typing.get_args(ann)
    if args and typing.get_origin(ann) is not typing.Literal:   # Optional[Literal[...]]
        args = typing.get_args(next(a for a in args if a is not type(None)))
    return tuple(args)


def test_input_schemas_take_their_choices_from_the_catalog():
    assert _literal(Patient, "etiology") == tuple(catalog.ETIOLOGIES)
    assert _literal(PopulationConfig, "etiology") == tuple(catalog.ETIOLOGIES)
    assert _literal(Patient, "sex") == catalog.SEXES
    assert _literal(Therapy, "kind") == catalog.THERAPIES
    assert _literal(Regimen, "cell_source") == tuple(catalog.CELL_SOURCES)
    assert _literal(Regimen, "route") == catalog.ROUTES
    assert _literal(protocol.Endpoint, "event") == tuple(catalog.EVENTS)
    assert _literal(ClinicalEvent, "kind") == catalog.STATE_EVENTS


def test_the_model_implements_every_entry():
    spec = build_model()
    assert tuple(spec.doses["msc"].parsed) == catalog.ROUTES            # routes are the dose table's rows
    for etio, (flag, rate, therapy, eff) in catalog.ETIOLOGIES.items():
        assert {flag, rate, eff} <= set(spec.parameters), etio
        assert catalog.THERAPY_OF[etio] == therapy
    assert set(catalog.CELL_SOURCES.values()) <= set(spec.parameters)
    assert set(catalog.mechanisms().values()) == set(spec.switches.values())
    variables = set(spec.states) | set(spec.derived)
    assert set(catalog.LAB_VARIABLES) <= variables
    # the events the engine fires are the spec's triggers, each counted by the state the catalog names
    assert {n: t.counter for n, t in spec.triggers.items()} == {n: catalog.EVENTS[n].counter
                                                                for n in catalog.STATE_EVENTS}


def test_trial_layer_lists_agree_with_the_catalog():
    assert protocol.LAB_VARIABLES == catalog.LAB_VARIABLES
    assert protocol.SCORE_VARIABLES == catalog.SCORE_VARIABLES
    assert set(ASSAY_CV) == set(catalog.LABS)
    assert all(ASSAY_CV[k]["low"] <= ASSAY_CV[k]["value"] <= ASSAY_CV[k]["high"] for k in ASSAY_CV)
    assert set(tables.LB_TESTS) == set(catalog.LAB_VARIABLES) | set(catalog.SCORE_VARIABLES)
    codes = [c for c, _, _ in tables.LB_TESTS.values()]
    assert len(codes) == len(set(codes)) and all(c and len(c) <= 8 for c in codes)   # SDTM: unique, <= 8
    assert {k: v[0] for k, v in tables.TTE_PARAMS.items()} == {k: e.code for k, e in catalog.EVENTS.items()}
    assert set(catalog.SCORE_VARIABLES) <= {n for n, s in catalog.SCORES.items() if s.code}
    # the events that end follow-up are the trial's ways of leaving it (dispositions) that are events
    from hepatwin.trial.runner import DISPOSITIONS
    assert {n for n, e in catalog.EVENTS.items() if e.terminal} == set(DISPOSITIONS) & set(catalog.EVENTS)


def test_results_tissue_and_units_agree_with_the_catalog():
    assert list(RESULT_SCORES) == list(catalog.SCORES)
    assert set(geometry.ZONE1_ETIOLOGIES) | set(geometry.ZONE3_ETIOLOGIES) == set(catalog.ETIOLOGIES)
    assert catalog.UNIT_FACTORS["bilirubin umol/L per mg/dL"] == units.BILIRUBIN_UMOL_L_PER_MG_DL
    assert units.to_umol_l_bilirubin(1.0, "mg/dL") == pytest.approx(units.BILIRUBIN_UMOL_L_PER_MG_DL)
    assert units.to_umol_l_creatinine(1.0, "mg/dL") == pytest.approx(units.CREATININE_UMOL_L_PER_MG_DL)


def test_every_lab_declares_code_label_unit_and_a_sourced_cv():
    spec = build_model()
    for name, lab in catalog.LABS.items():
        assert lab.code and lab.label and lab.unit, name
        assert lab.cv_low <= lab.cv <= lab.cv_high, name
        assert lab.cv_source.startswith(("assumed:", "calibrated:", "PMID:")) or "doi:" in lab.cv_source, name
        # the reported unit is the model variable's unit (SDTM writes percent as %); a count the model holds as a
        # number says its unit in its description
        var = spec.states[name] if name in spec.states else spec.derived[name]
        if var.unit == "1" and lab.unit != "1":
            assert f"({lab.unit}, number)" in var.description, (name, var.description, lab.unit)
        else:
            assert lab.unit == {"percent": "%"}.get(var.unit, var.unit), (name, var.unit, lab.unit)
