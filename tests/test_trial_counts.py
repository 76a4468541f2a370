"""CONSORT counts partition the enrolled subjects (issue 18, item 6).

Every enrolled subject has one disposition over one stated period (randomisation to the end of
follow-up): completed follow-up, died, liver transplant, withdrew (dropout) or, for the software,
solver failure. So the counts add up to the enrolled, overall and per arm, and are the counts of the
DS (disposition) table, in consort.csv, consort_by_arm.csv, the report's CONSORT table and the CLI line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hepatwin.cli import app
from hepatwin.trial import parse_protocol, run_trial
from hepatwin.trial.tables import build_tables

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples" / "trials").glob("*.toml"))
#: the ways a subject can leave the study (consort.csv and consort_by_arm.csv columns)
DISPOSITIONS = ["completed", "died", "transplanted", "dropped_out", "solver_failure"]
#: the CDISC term of each in the DS table
DS_TERMS = {"COMPLETED": "completed", "DEATH": "died", "LIVER TRANSPLANTATION": "transplanted",
            "LOST TO FOLLOW-UP": "dropped_out", "OTHER": "solver_failure"}


def _load(path: Path):
    return parse_protocol(tomllib.loads(path.read_text()), str(path), path.parent)


@pytest.mark.parametrize("seed", [3, 2024])
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_disposition_partitions_the_enrolled_and_equals_the_ds_table(path, seed):
    proto, pop = _load(path)
    # a reduced trial (4 per arm) with three replicates: the partition must hold in every one
    res = run_trial(proto, pop, seed=seed, replicates=3, n_per_arm=4)
    consort = res.consort.set_index("replicate")
    # overall: each subject counted once (before issue 18 a subject who attended the last visit and died or
    # dropped out later was counted twice: zhongnan2024 here gave 3, 2 and 2 too many)
    assert (consort[[k for k in DISPOSITIONS if k in consort]].sum(axis=1) == consort["enrolled"]).all(), consort
    assert set(DISPOSITIONS) <= set(consort.columns)
    # per arm: the same, and the arms add up to the overall counts
    by_arm = res.disposition
    assert list(by_arm["arm"].unique()) == [a.name for a in proto.arm]
    assert (by_arm[DISPOSITIONS].sum(axis=1) == by_arm["randomised"]).all(), by_arm
    assert (by_arm["randomised"] == 4).all()
    summed = by_arm.groupby("replicate")[DISPOSITIONS].sum()
    pd.testing.assert_frame_equal(summed, consort[DISPOSITIONS], check_names=False)
    # the DS table: one end-of-study record per subject, with the same counts per replicate and arm
    ds = build_tables(res)["ds"]
    end = ds[ds["DSDECOD"] != "RANDOMIZED"]
    assert len(end) == len(res.subjects) and not end.duplicated(["REPLICATE", "USUBJID"]).any()
    arm_of = res.subjects.set_index(["replicate", "usubjid"])["arm"]
    end = end.assign(arm=arm_of.reindex(pd.MultiIndex.from_frame(end[["REPLICATE", "USUBJID"]])).to_numpy(),
                     key=end["DSDECOD"].map(DS_TERMS))
    ds_counts = (end.groupby(["REPLICATE", "arm", "key"]).size().unstack("key", fill_value=0)
                 .reindex(columns=DISPOSITIONS, fill_value=0))
    mine = by_arm.set_index(["replicate", "arm"])[DISPOSITIONS]
    pd.testing.assert_frame_equal(ds_counts.reindex(mine.index, fill_value=0), mine, check_names=False)
    # ADSL says the same: completed = COMPLFL = EOSSTT COMPLETED
    adsl = build_tables(res)["adsl"]
    assert (adsl["COMPLFL"] == "Y").sum() == consort["completed"].sum() == (adsl["EOSSTT"] == "COMPLETED").sum()


def _html_table(html: str) -> pd.DataFrame:
    """The first <table> of `html` (header row, then rows; whole numbers as int)."""
    body = html[html.index("<table>"):html.index("</table>")]
    rows = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    df = pd.DataFrame(rows[1:], columns=rows[0])
    return df.apply(lambda c: pd.to_numeric(c) if c.str.fullmatch(r"\d+").all() else c)


def _numbers(text: str) -> dict[str, int]:
    """'completed follow-up 16, died 3, ...' -> {'completed follow-up': 16, 'died': 3, ...}"""
    return {k.strip(): int(v) for k, v in re.findall(r"([a-z][a-z ()-]*?) (\d+)(?:,|$)", text.strip())}


def test_cli_line_report_and_files_agree_and_add_up(tmp_path):
    """The reference trial of the issue (24 enrolled; the old line said completed 21, died 3, dropped out 5)."""
    path = ROOT / "examples" / "trials" / "zhongnan2024.toml"
    proto, _ = _load(path)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["trial", "run", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    head = next(line for line in lines if "enrolled" in line)
    enrolled = int(re.search(r"enrolled (\d+)", head).group(1))
    assert enrolled == proto.n_total == 24
    # the counts after the enrolled add up to it (the old line: completed 21, died 3, dropped out 5)
    overall = _numbers(re.split(r"enrolled \d+[,;]", head)[1].split(":")[-1])
    assert sum(overall.values()) == enrolled, head
    # the period is stated, the counts are in words
    assert "to the end of follow-up (day 730)" in head
    assert set(overall) == {"completed follow-up", "died", "liver transplant", "withdrew (dropout)"}, head
    # one line per arm, under its label, adding up to the arm's size; the arms add up to the overall counts
    per_arm = {}
    for arm in proto.arm:
        line = next(x for x in lines if x.strip().startswith(arm.display + ":"))
        n = int(re.search(r"randomised (\d+);", line).group(1))
        counts = _numbers(line.split(";", 1)[1])
        assert n == arm.n and sum(counts.values()) == n, line
        per_arm[arm.name] = counts
    assert {k: sum(c[k] for c in per_arm.values()) for k in overall} == overall
    assert "low (2.5e7 cells)" in res.output and "arm_low" not in res.output and "dropped_out" not in res.output
    # the same numbers in consort.csv, consort_by_arm.csv and the DS table
    consort = pd.read_csv(out / "consort.csv").iloc[0]
    words = {"completed": "completed follow-up", "died": "died", "transplanted": "liver transplant",
             "dropped_out": "withdrew (dropout)"}
    assert {w: int(consort[k]) for k, w in words.items()} == overall
    assert int(consort["solver_failure"]) == 0
    by_arm = pd.read_csv(out / "consort_by_arm.csv").set_index("arm")
    for name, counts in per_arm.items():
        assert {w: int(by_arm.loc[name, k]) for k, w in words.items()} == counts
    ds = pd.read_csv(out / "tables" / "ds.csv")
    ds_counts = ds.loc[ds["DSDECOD"] != "RANDOMIZED", "DSDECOD"].map(DS_TERMS).value_counts()
    assert {w: int(ds_counts.get(k, 0)) for k, w in words.items()} == overall
    # the report's CONSORT table: words for people, arm labels, every row adds up to its randomised
    html = (out / "report.html").read_text()
    section = html[html.index("<h2>CONSORT counts</h2>"):html.index("<h2>Figures</h2>")]
    assert "to the end of follow-up (day 730)" in section
    table = _html_table(section)
    assert list(table.columns) == ["Arm", "Randomised", "Completed follow-up", "Died", "Liver transplant",
                                   "Withdrew (dropout)"]
    assert table["Arm"].tolist() == [a.display for a in proto.arm] + ["All arms"]
    assert (table.iloc[:, 2:].sum(axis=1) == table["Randomised"]).all()
    total = table.set_index("Arm").loc["All arms"]
    assert total["Randomised"] == enrolled and total["Died"] == overall["died"]
    assert total["Completed follow-up"] == overall["completed follow-up"]
    assert "arm_low" not in section and "dropped_out" not in section
