"""hepatwin: chronic liver disease and mesenchymal stem cell therapy, simulated.

Research software. Nothing it produces is clinical advice.

The main entry points are importable from here; each is imported on first use, so `import hepatwin`
stays fast (the command line starts without loading NumPy, SciPy or the model). A walk-through from Python
(a scenario, a population, a trial, power) is in docs/api.md.

Scenarios and simulation (`hepatwin.scenario`, `hepatwin.simulate`)
    load_scenario(path) -> Scenario                 read and validate a scenario TOML file
    parse_scenario(data, source) -> Scenario        the same from a dict (ScenarioError on a mistake)
    simulate(scenario or path, engine="scipy") -> SimulationResult   one patient; `.dataset`, `.at(day)`, `.ok`
    simulate_many(scenarios, engine="numba") -> list[SimulationResult]   one batch on the compiled engine
    plan_run(scenario) -> RunPlan                   what the engine gets: parameters, initial state, events
Virtual populations (`hepatwin.population`)
    load_population(path) -> PopulationConfig       a population TOML file
    generate(config, n) -> PopulationResult         `n` accepted candidates, selected to the targets
    run_chunks(config, n, regimens, out_dir)        large runs, chunked to disk and resumable
Virtual trials (`hepatwin.trial`, `hepatwin.calibrate`)
    load_protocol(path) -> (Protocol, PopulationConfig)
    run_trial(protocol, population, seed=, replicates=) -> TrialResult
    power_analysis(protocol, population, replicates, n_per_arm) -> (power table, per-replicate p-values)
    write_trial(result, out_dir) -> analysis tables (writes tables, report.html, manifest.json)
    validate(examples_dir(), replicates=, cohort_n=) -> list of rows (published vs simulated, PASS/FAIL)
    examples_dir() -> Path                          the example inputs shipped with the package
Clinical scores (`hepatwin.clinical`)
    all_scores(bilirubin, unit, albumin, unit, inr, creatinine, unit, sodium, ascites, encephalopathy, female)
Model and export (`hepatwin.model`, `hepatwin.io.sbml`)
    build_model() -> ModelSpec; export_sbml(spec) / export_scenario(scenario) -> ExportReport (`.sbml`)
Tissue (`hepatwin.tissue.run`)
    load_tissue_run(path) -> (Scenario, TissueConfig, path); run_tissue(scenario, config, out_dir)
Errors
    InputError (any mistake in an input, with field, value and what was expected; ScenarioError and the
    other file kinds are InputErrors), RunTooLargeError

`hepatwin.simulate` is the function; its module stays importable by name (`from hepatwin.simulate import ...`).
"""

import sys

__version__ = "0.1.0"

DISCLAIMER = (
    "hepatwin is research software. Its outputs are simulations, not clinical advice, "
    "and must not be used to make decisions about any patient."
)

#: public name -> module defining it (imported on first access)
_API = {
    "load_scenario": "scenario",
    "parse_scenario": "scenario",
    "ScenarioError": "scenario",
    "simulate": "simulate",
    "simulate_many": "simulate",
    "load_population": "population.config",
    "generate": "population.generate",
    "run_chunks": "population.large",
    "load_protocol": "trial.protocol",
    "run_trial": "trial.runner",
    "power_analysis": "trial.power",
    "write_trial": "trial.outputs",
    "validate": "calibrate.validation",
    "examples_dir": "example_files",
    "all_scores": "clinical.scores",
    "build_model": "model",
    "export_sbml": "io.sbml",
    "export_scenario": "io.sbml",
    "load_tissue_run": "tissue.run",
    "run_tissue": "tissue.run",
    "RunTooLargeError": "limits",
    "InputError": "errors",
    "plan_run": "plan",
}

__all__ = ["DISCLAIMER", "__version__", *_API]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
    globals()[name] = value   # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})


class _Package(type(sys)):
    """The package module: importing a submodule that has a public function's name (`hepatwin.simulate`) does
    not replace the function as the package's attribute (the import system would set it to the submodule)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _API and isinstance(value, type(sys)) and value.__name__ == f"{__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
