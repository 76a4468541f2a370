"""One input-error family: every user mistake is an InputError (a ValueError), each file kind with its own
subclass, never a RuntimeError; the command line ends each with one `error:` line and exit 2."""

from pathlib import Path

import pytest

from cli_helpers import refused, run
from hepatwin.calibrate.fit import CalibrationWriteError
from hepatwin.errors import InputError, InputFileError
from hepatwin.limits import RunTooLargeError
from hepatwin.population import ScreeningError, load_population
from hepatwin.population.config import PopulationFileError
from hepatwin.population.large import ResumeError
from hepatwin.scenario import ScenarioError, load_scenario
from hepatwin.tissue.rules import RuleError
from hepatwin.tissue.run import TissueRunError, load_tissue_run
from hepatwin.trial import load_protocol
from hepatwin.trial.protocol import ProtocolError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("error", [ScreeningError, ResumeError, RunTooLargeError, CalibrationWriteError, RuleError,
                                   ScenarioError, PopulationFileError, ProtocolError, TissueRunError])
def test_every_user_mistake_is_an_input_error_never_a_runtime_error(error):
    assert issubclass(error, InputError) and not issubclass(error, RuntimeError)


@pytest.mark.parametrize("loader, error", [(load_scenario, ScenarioError), (load_population, PopulationFileError),
                                           (load_protocol, ProtocolError), (load_tissue_run, TissueRunError)])
def test_each_file_kind_has_its_own_error(tmp_path, loader, error):
    f = tmp_path / "bad.toml"
    # a tissue-run file is one with a [tissue] table (without, it is read as a scenario)
    f.write_text("[tissue]\nnot_a_field = 1\n" if error is TissueRunError else "name = 'x'\nnot_a_field = 1\n")
    with pytest.raises(error) as exc:
        loader(f)
    assert isinstance(exc.value, InputFileError) and "bad.toml" in str(exc.value)
    missing = tmp_path / "missing.toml"
    with pytest.raises(InputFileError, match=r"missing\.toml"):
        loader(missing)


def test_the_cli_ends_every_kind_with_exit_2(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("name = 'x'\nnot_a_field = 1\n")
    refused(run("simulate", f, "--out", tmp_path / "o"), "bad.toml")
    refused(run("population", "generate", f, "--n", "2", "--out", tmp_path / "o"), "bad.toml")
    refused(run("trial", "run", f, "--out", tmp_path / "o"), "bad.toml")
    refused(run("tissue", "run", f, "--out", tmp_path / "o"), "bad.toml")
    assert not (tmp_path / "o").exists()


def test_a_trial_that_cannot_be_screened_or_held_is_an_input_error(tmp_path):
    from hepatwin.trial import run_trial
    from hepatwin.trial.protocol import parse_protocol

    proto, pop = load_protocol(ROOT / "examples" / "trials" / "zhongnan2024.toml")
    with pytest.raises(RunTooLargeError, match="exceed what one trial run holds"):
        run_trial(proto, pop, replicates=100_000)
    strict = pop.model_copy(update={"max_candidates_per_patient": 1})
    data = proto.model_dump(mode="json")
    data["inclusion"] = [{"name": "MELD over 25", "variable": "meld", "op": ">", "value": 25}]
    proto2, _ = parse_protocol(data | {"population": strict.model_dump(mode="json")}, "p.toml")
    with pytest.raises(ScreeningError, match=r"screening found only|no candidate met"):
        run_trial(proto2, strict)
