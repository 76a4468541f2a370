"""docs/api.md runs as written, and `import hepatwin` gives the entry points without importing them up front."""

import re
import subprocess
import sys
from pathlib import Path

import hepatwin

ROOT = Path(__file__).resolve().parents[1]
API_MD = ROOT / "docs" / "api.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_api_doc_blocks_run_in_order(tmp_path, monkeypatch, capsys):
    blocks = python_blocks(API_MD.read_text())
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)   # the blocks write their outputs into the working folder
    namespace: dict = {"__name__": "__api_doc__"}
    for k, block in enumerate(blocks):
        try:
            exec(compile(block, f"docs/api.md block {k + 1}", "exec"), namespace)
        except Exception as exc:   # name the block that failed
            raise AssertionError(f"docs/api.md block {k + 1} failed:\n{block}") from exc
    out = capsys.readouterr().out
    assert "MSC effect on albumin at day 85: +" in out
    assert "cells/lb" in out               # the ScenarioError names the wrong unit
    assert "findings pass at this size" in out
    for made in ("zhongnan_trial/report.html", "patient.xml", "big_run/chunks", "tissue_run/manifest.json"):
        assert (tmp_path / made).exists(), made


def test_every_public_name_resolves_with_a_docstring():
    assert len(set(hepatwin.__all__)) == len(hepatwin.__all__)
    for name in hepatwin.__all__:
        value = getattr(hepatwin, name)
        if callable(value):
            assert value.__doc__, name
        assert name in dir(hepatwin)
    for name in ("load_scenario", "parse_scenario", "simulate", "simulate_many", "load_population", "generate",
                 "run_chunks", "load_protocol", "run_trial", "power_analysis", "write_trial", "validate",
                 "all_scores", "build_model", "export_sbml", "export_scenario", "run_tissue"):
        assert callable(getattr(hepatwin, name)), name
    # the documented names are the functions the CLI uses, not copies
    from hepatwin.simulate import simulate
    from hepatwin.trial.runner import run_trial
    assert hepatwin.simulate is simulate and hepatwin.run_trial is run_trial


def test_import_is_lazy_and_simulate_stays_the_function():
    code = ("import sys, hepatwin\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy', 'pandas') "
            "or m.startswith('hepatwin.'))\n"
            "assert not heavy, heavy\n"
            # importing the submodule hepatwin.simulate first (the trial code does) must not replace the function
            "import hepatwin.trial\n"
            "assert callable(hepatwin.simulate), hepatwin.simulate\n"
            "from hepatwin import simulate\n"
            "assert simulate.__module__ == 'hepatwin.simulate'\n"
            "try:\n    hepatwin.no_such_name\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit(1)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
