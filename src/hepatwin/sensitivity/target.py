"""What a sensitivity or attribution run is about: one scenario's patient, or the patients of a trial
protocol's arm (screened from its population by its criteria), each with the same patients without MSCs as
the control of the MSC effect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..plan import plan_restart, plan_run
from ..spec.model import ModelSpec
from .evaluate import Patients, control_of, patients_of

#: patients of a protocol's arm simulated under every parameter set, unless the user says otherwise
DEFAULT_PATIENTS = 20


@dataclass(frozen=True)
class Target:
    """The patients (one for a scenario), the same patients without MSCs, and for a protocol the arm."""

    kind: str                      # "scenario" | "protocol"
    name: str
    treated: Patients
    control: Patients
    patient_ids: np.ndarray
    protocol: object | None = None
    arm: object | None = None

    @property
    def given_msc(self) -> bool:
        return any(ev.dose is not None for evs in self.treated.events for ev in evs)


def is_protocol(path: str | Path) -> bool:
    """A TOML file with `[[arm]]` tables is a trial protocol; anything else is read as a scenario."""
    from ..scenario import read_toml

    return "arm" in read_toml(Path(path), "input")


def scenario_target(spec: ModelSpec, scenario) -> Target:
    """One scenario's patient, and the same patient without its MSC regimens."""
    return Target("scenario", scenario.name, patients_of(spec, plan_run(scenario, spec)),
                  patients_of(spec, plan_run(control_of(scenario), spec)), np.array([0]))


def protocol_target(spec: ModelSpec, protocol, population, *, arm: str | None = None,
                    patients: int = DEFAULT_PATIENTS, engine: str = "numba", executor=None,
                    progress=None) -> Target:
    """The first `patients` eligible patients of the protocol's population (its seed, its and the protocol's
    criteria, the protocol's background therapy) under the regimens of `arm` (default: the first treated arm),
    and the same patients under the background therapy alone."""
    from ..engine.codegen import compile_model
    from ..population.generate import generate
    from ..trial.runner import pool_config

    treated = [a for a in protocol.arm if not a.control]
    if arm is None:
        if not treated:
            raise InputError(f"protocol {protocol.name!r}: no treated arm; expected an [[arm]] with regimens")
        chosen = treated[0]
    else:
        chosen = next((a for a in protocol.arm if a.name == arm), None)
        if chosen is None or chosen.control:
            raise InputError(f"--arm {arm!r}: expected a treated arm of the protocol: "
                             f"{', '.join(a.name for a in treated) or 'none'}")
    if patients < 2:
        raise InputError(f"--patients {patients}: expected at least 2 (the between-patient spread is an output)")
    cfg = pool_config(protocol, population, protocol.seed, patients)
    pool = generate(cfg, patients, chunk=min(2000, max(200, 2 * patients)), engine=engine, executor=executor,
                    progress=progress)
    base = pool.accepted.head(patients)
    model = compile_model(spec)
    common = dict(control_on=any(t.start_day <= 0 for t in cfg.therapy),
                  therapy_days=sorted(t.start_day for t in cfg.therapy if t.start_day > 0),
                  label="start background therapy")
    on = plan_restart(cfg, base, spec, model, regimens=[chosen.regimen] * len(base), **common)
    off = plan_restart(cfg, base, spec, model, **common)
    return Target("protocol", f"{protocol.name}: {chosen.name}", patients_of(spec, on), patients_of(spec, off),
                  base["patient_id"].to_numpy(dtype=np.int64), protocol, chosen)


def load_target(path: str | Path, *, arm: str | None = None, patients: int = DEFAULT_PATIENTS,
                engine: str = "numba", executor=None, progress=None) -> Target:
    """A scenario file or a protocol file (and its population) as a Target."""
    from ..model import build_model

    spec = build_model()
    if is_protocol(path):
        from ..trial import load_protocol

        protocol, population = load_protocol(path)
        return protocol_target(spec, protocol, population, arm=arm, patients=patients, engine=engine,
                               executor=executor, progress=progress)
    from ..scenario import load_scenario

    if arm is not None:
        raise InputError(f"--arm {arm!r}: a scenario has no arms (give a trial protocol)")
    return scenario_target(spec, load_scenario(path))
