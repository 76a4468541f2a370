"""The example inputs ship inside the package, so validate and calibrate work from an installed wheel."""

import fnmatch
import shutil
import tomllib
from pathlib import Path

import hepatwin.calibrate.validation as validation
from hepatwin.example_files import VALIDATION_INPUTS, examples_dir
from hepatwin.population import load_population
from hepatwin.trial import load_protocol

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "hepatwin"


def _package_data_globs() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return data["tool"]["setuptools"]["package-data"]["hepatwin"]


def _shipped(path: Path) -> bool:
    rel = path.relative_to(PACKAGE).as_posix()
    return any(fnmatch.fnmatch(rel, g) and rel.count("/") == g.count("/") for g in _package_data_globs())


def test_examples_resolve_through_importlib_resources_to_the_package():
    ex = examples_dir()
    assert ex.resolve() == (PACKAGE / "examples").resolve()
    for rel in VALIDATION_INPUTS:
        assert (ex / rel).is_file(), rel


def test_checkout_examples_is_a_link_to_the_package_copy():
    top = ROOT / "examples"
    assert top.is_symlink() and not Path(top.readlink()).is_absolute()
    assert top.resolve() == (PACKAGE / "examples").resolve()


def test_package_data_globs_cover_every_example_file():
    files = [p for p in (PACKAGE / "examples").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert files
    missing = [str(p.relative_to(PACKAGE)) for p in files if not _shipped(p)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_validation_reads_only_files_a_wheel_holds(tmp_path, monkeypatch):
    """Copy what the package-data globs ship into a folder shaped like the installed package, then let
    `validate` find its inputs there; the (slow) trials are replaced by loading each file it hands over."""
    wheel_like = tmp_path / "hepatwin"
    for p in (PACKAGE / "examples").rglob("*.*"):
        if p.is_file() and _shipped(p):
            dest = wheel_like / p.relative_to(PACKAGE)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dest)
    seen = []

    def trial_rows(path, *args):
        _protocol, population = load_protocol(path)   # also reads the population file the protocol names
        assert population.name
        seen.append(Path(path).name)
        return []

    def cohort_rows(path, *args):
        load_population(path)
        seen.append(Path(path).name)
        return []

    monkeypatch.setattr(validation, "reference_trial_rows", trial_rows)
    monkeypatch.setattr(validation, "controlled_trial_rows", trial_rows)
    monkeypatch.setattr(validation, "natural_history_rows", cohort_rows)
    monkeypatch.setattr(validation, "hcc_rows", cohort_rows)
    assert validation.validate(wheel_like / "examples", replicates=2, cohort_n=20) == []
    assert seen == ["zhongnan2024.toml", "zhang2012.toml", "cirrhosis_natural_history.toml",
                    "alcohol_cirrhosis_natural_history.toml"]
    inputs = [("trials", "zhongnan2024.toml"), ("trials", "zhang2012.toml"),
              ("populations", "cirrhosis_natural_history.toml"),
              ("populations", "alcohol_cirrhosis_natural_history.toml")]
    assert {f"{d}/{n}" for d, n in inputs} <= set(VALIDATION_INPUTS)
