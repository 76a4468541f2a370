"""CLI commands other than simulate: score, model lint/docs, compare (the demo)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "hepatwin.cli", *args], capture_output=True, text=True)


def test_score_json_keys_and_values():
    p = run("score", "--bilirubin", "2.1", "--bilirubin-unit", "mg/dL", "--albumin", "28", "--albumin-unit", "g/L",
            "--inr", "1.6", "--creatinine", "1.1", "--creatinine-unit", "mg/dL", "--sodium", "131",
            "--ascites", "mild", "--encephalopathy", "none", "--sex", "female", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert list(d) == ["child_pugh_points", "child_pugh_class", "meld", "meld_na", "meld_3", "albi", "albi_grade"]
    # by hand: Child-Pugh 2 (bili 2-3) + 3 (alb 2.8 g/dL is the 2.8-3.5 band -> 2) ... see test_clinical
    assert d["meld"] == 15 and d["meld_na"] == 20 and d["child_pugh_class"] == "B"


def test_score_bad_value_exit_2():
    p = run("score", "--bilirubin", "abc", "--albumin", "28", "--inr", "1.6", "--creatinine", "1", "--sodium", "131")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    p = run("score", "--bilirubin", "2", "--bilirubin-unit", "furlongs", "--albumin", "28", "--inr", "1.6",
            "--creatinine", "1", "--sodium", "131")
    assert p.returncode == 2 and "furlongs" in p.stderr and "Traceback" not in p.stderr


def test_model_lint_clean_and_docs(tmp_path):
    p = run("model", "lint", "--json")
    assert p.returncode == 0 and json.loads(p.stdout) == []
    p = run("model", "docs", "--out", str(tmp_path))
    assert p.returncode == 0
    fib = (tmp_path / "fibrosis.md").read_text()
    assert "dCx/dt = collagen_crosslinking - mature_collagen_degradation" in fib
    assert "doi:10.1371/journal.pone.0123311" in fib  # Decaris 2015 in the parameter table
    assert "| `kdx` |" in fib and "1/day" in fib


def test_committed_model_docs_are_current(tmp_path):
    run("model", "docs", "--out", str(tmp_path))
    for page in tmp_path.glob("*.md"):
        committed = ROOT / "docs" / "model" / page.name
        assert committed.exists() and committed.read_text() == page.read_text(), (
            f"docs/model/{page.name} is stale: run `make docs`")


def test_compare_writes_demo_report(tmp_path):
    ex = ROOT / "examples" / "scenarios"
    p = run("compare", str(ex / "hbv_decompensated_untreated.toml"), str(ex / "hbv_decompensated_msc.toml"),
            "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    html = (tmp_path / "report.html").read_text()
    assert "not clinical advice" in html
    for day in ("Day 0", "Day 29", "Day 57", "Day 85", "Day 169"):
        assert day in html
    assert html.count("data:image/png;base64") == 4
    assert (tmp_path / "hbv_decompensated_msc" / "manifest.json").exists()
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == ["ok", "ok"]


def test_every_help_text_shows_whole():
    """Option and argument help is shown as written: rich markup must not swallow '[tissue]' or '[[regimen]]'."""
    import typer
    from typer.testing import CliRunner

    from hepatwin.cli import app

    runner = CliRunner()

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd

    checked = 0
    for path, cmd in walk(typer.main.get_command(app), []):
        out = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "2000"}, terminal_width=2000).output
        flat = " ".join(out.split())
        for p in cmd.params:
            text = getattr(p, "help", None)
            if text:
                assert " ".join(text.replace("\\[", "[").split()) in flat, (path, p.name, out)
                checked += 1
    assert checked > 20
