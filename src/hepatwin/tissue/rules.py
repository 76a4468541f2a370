"""Cell-behaviour rules as data: (cell type, signal, direction, behaviour, saturation, half-max, Hill power, source).

Each rule scales one behaviour's base rate by a Hill function of one local signal. With
H = s^n / (K^n + s^n), an "increases" rule multiplies the rate by 1 + (saturation - 1) H and a
"decreases" rule by 1 - (1 - saturation) H; `saturation` is the fold-change of the base rate at
saturating signal (>= 1 for increases, in [0, 1] for decreases). Rules on one behaviour multiply.
The grammar follows PhysiCell's rules tables (Ghaffarizadeh 2018, doi:10.1371/journal.pcbi.1005991),
with fold-changes instead of absolute target rates. Every name is checked against the registry
below, so a table can be edited (a hypothesis swapped) without touching code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..spec.model import Source

#: local signals a rule can read (index = position in the kernel's signal vector)
SIGNALS: tuple[str, ...] = (
    "tgfb", "cytokines", "hgf", "mmp", "oxygen", "msc_factors", "collagen", "empty_neighbors",
    "msc_immunomodulation", "msc_antifibrosis", "msc_regeneration", "msc_microcirculation",
    "msc_anti_cell_death", "inflammation", "activation_stimulus", "injury_weight",
)
FIELD_SIGNALS = SIGNALS[:6]
SIGNAL_HELP = {
    "tgfb": "TGF-beta field (relative units)", "cytokines": "TNF/IL-6/IL-8 field (relative units)",
    "hgf": "HGF field (relative units)", "mmp": "MMP activity field (relative units)",
    "oxygen": "oxygen field (1 = periportal supply)", "msc_factors": "MSC-secreted factor field",
    "collagen": "local collagen / saturation (0-1)", "empty_neighbors": "fraction of 4 neighbours without hepatocyte",
    "msc_immunomodulation": "local MSC immunomodulation effect (0-1)",
    "msc_antifibrosis": "local MSC anti-fibrosis effect (0-1)",
    "msc_regeneration": "local MSC regeneration effect (0-1)",
    "msc_microcirculation": "local MSC microcirculation effect (0-1)",
    "msc_anti_cell_death": "local MSC anti-cell-death effect (0-1)",
    "inflammation": "patient-model inflammation driver (M1, 1 = healthy)",
    "activation_stimulus": "patient-model stellate activation stimulus (0-1)",
    "injury_weight": "etiology's zonal and axial injury propensity of the site (mean 1 over parenchyma)",
}

#: cell type -> behaviours it has (the kernel knows each by its index in BEHAVIOURS)
CELL_BEHAVIOURS: dict[str, tuple[str, ...]] = {
    "hepatocyte": ("injury", "death", "recovery", "division", "cytokine_secretion", "tgfb_secretion"),
    "stellate": ("activation", "inactivation", "reactivation", "apoptosis", "proliferation", "collagen_deposition",
                 "tgfb_secretion", "hgf_secretion", "mmp_secretion", "requiescence", "replenishment"),
    "macrophage": ("recruitment", "m2_polarization", "m1_polarization", "departure", "cytokine_secretion",
                   "tgfb_secretion", "mmp_secretion"),
    "endothelium": ("loss", "repair", "oxygen_supply"),
    "msc": ("factor_secretion", "clearance", "homing"),
}
BEHAVIOURS: tuple[tuple[str, str], ...] = tuple((c, b) for c, bs in CELL_BEHAVIOURS.items() for b in bs)
BEHAVIOUR_INDEX = {cb: i for i, cb in enumerate(BEHAVIOURS)}
DIRECTIONS = ("increases", "decreases")
COLUMNS = ("cell_type", "signal", "direction", "behaviour", "saturation", "half_max", "hill_power", "source")


def B(cell: str, behaviour: str) -> int:
    """Kernel index of a (cell type, behaviour) pair."""
    return BEHAVIOUR_INDEX[(cell, behaviour)]


class RuleError(InputError):
    """A rules table that cannot be used; the message names the row, column and value."""


@dataclass(frozen=True)
class Rule:
    cell_type: str
    signal: str
    direction: str
    behaviour: str
    saturation: float
    half_max: float
    hill_power: float
    source: str


@dataclass(frozen=True)
class RuleSet:
    """Rules grouped by behaviour, as flat arrays for the kernel."""

    rules: tuple[Rule, ...]
    start: np.ndarray      # int32 (n_behaviours + 1): rules of behaviour b are start[b]:start[b+1]
    signal: np.ndarray     # int32
    up: np.ndarray         # uint8 1 = increases
    fold: np.ndarray       # float32 saturation fold-change
    k_pow: np.ndarray      # float32 half_max ** hill_power
    power: np.ndarray      # float32 Hill power
    max_fold: np.ndarray   # float32 per behaviour: the largest factor its rules can give (all 'increases' saturated)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.start, self.signal, self.up, self.fold, self.k_pow, self.power, self.max_fold


def _closest(name: str, options) -> str:
    import difflib

    near = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def parse_rules(text: str, origin: str = "rules") -> RuleSet:
    """Parse and validate a rules CSV; raise RuleError naming the line, column and value of any mistake."""
    rows = [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1)
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise RuleError(f"{origin}: empty rules table")
    header = [h.strip() for h in rows[0][1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RuleError(f"{origin}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    extra = [c for c in header if c not in COLUMNS]
    if extra:
        raise RuleError(f"{origin}: unknown column(s) {', '.join(extra)}; expected {', '.join(COLUMNS)}")
    rules = []
    for n, raw in rows[1:]:
        if len(raw) != len(header):
            raise RuleError(f"{origin}, line {n}: {len(raw)} values for {len(header)} columns")
        row = {k: v.strip() for k, v in zip(header, raw, strict=True)}
        where = f"{origin}, line {n}"
        cell = row["cell_type"]
        if cell not in CELL_BEHAVIOURS:
            raise RuleError(f"{where}: unknown cell_type {cell!r}{_closest(cell, CELL_BEHAVIOURS)}; "
                            f"expected one of {', '.join(CELL_BEHAVIOURS)}")
        sig = row["signal"]
        if sig not in SIGNALS:
            raise RuleError(f"{where}: unknown signal {sig!r}{_closest(sig, SIGNALS)}; expected one of "
                            f"{', '.join(SIGNALS)}")
        beh = row["behaviour"]
        if beh not in CELL_BEHAVIOURS[cell]:
            options = ", ".join(CELL_BEHAVIOURS[cell])
            raise RuleError(f"{where}: unknown behaviour {beh!r} for cell_type {cell!r}"
                            f"{_closest(beh, CELL_BEHAVIOURS[cell])}; expected one of {options}")
        if (cell, beh) == ("msc", "homing") and sig not in FIELD_SIGNALS:
            raise RuleError(f"{where}: msc homing can only follow a field signal ({', '.join(FIELD_SIGNALS)}), "
                            f"not {sig!r}")
        direction = row["direction"]
        if direction not in DIRECTIONS:
            raise RuleError(f"{where}: unknown direction {direction!r}; expected 'increases' or 'decreases'")
        vals = {}
        for col in ("saturation", "half_max", "hill_power"):
            try:
                vals[col] = float(row[col])
            except ValueError:
                raise RuleError(f"{where}: column {col} = {row[col]!r} is not a number") from None
            if not np.isfinite(vals[col]):
                raise RuleError(f"{where}: column {col} = {row[col]!r} must be finite")
        if vals["half_max"] <= 0:
            raise RuleError(f"{where}: half_max = {vals['half_max']} must be > 0")
        if not 0 < vals["hill_power"] <= 12:
            raise RuleError(f"{where}: hill_power = {vals['hill_power']} must be in (0, 12]")
        if direction == "increases" and vals["saturation"] < 1:
            raise RuleError(f"{where}: saturation = {vals['saturation']} must be >= 1 for 'increases' "
                            "(it is the fold-change at saturating signal)")
        if direction == "decreases" and not 0 <= vals["saturation"] <= 1:
            raise RuleError(f"{where}: saturation = {vals['saturation']} must be in [0, 1] for 'decreases'")
        src = Source.parse(row["source"])
        if src.kind in ("missing", "invalid"):
            raise RuleError(f"{where}: column source = {row['source']!r}: give a DOI/PMID/URL, "
                            "'calibrated: <target>' or 'assumed: <why>'")
        rules.append(Rule(cell, sig, direction, beh, vals["saturation"], vals["half_max"], vals["hill_power"],
                          row["source"]))
    return compile_rules(rules)


def compile_rules(rules: list[Rule]) -> RuleSet:
    """Group rules by behaviour into the flat arrays the kernel reads."""
    order = sorted(range(len(rules)), key=lambda k: (B(rules[k].cell_type, rules[k].behaviour), k))
    ordered = [rules[k] for k in order]
    counts = np.zeros(len(BEHAVIOURS), np.int32)
    for r in ordered:
        counts[B(r.cell_type, r.behaviour)] += 1
    start = np.zeros(len(BEHAVIOURS) + 1, np.int32)
    start[1:] = np.cumsum(counts)
    max_fold = np.ones(len(BEHAVIOURS), np.float32)
    for r in ordered:
        if r.direction == "increases":
            max_fold[B(r.cell_type, r.behaviour)] *= r.saturation
    # a little headroom so float32 rounding can never make the true rate exceed the bound
    max_fold *= np.float32(1.0001)
    return RuleSet(
        rules=tuple(ordered), start=start,
        signal=np.array([SIGNALS.index(r.signal) for r in ordered], np.int32),
        up=np.array([r.direction == "increases" for r in ordered], np.uint8),
        fold=np.array([r.saturation for r in ordered], np.float32),
        k_pow=np.array([r.half_max ** r.hill_power for r in ordered], np.float32),
        power=np.array([r.hill_power for r in ordered], np.float32),
        max_fold=max_fold,
    )


def default_rules_text() -> str:
    return resources.files("hepatwin.tissue").joinpath("rules.csv").read_text(encoding="utf-8")


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The packaged rules table, or a user's CSV with the same columns."""
    if path is None:
        return parse_rules(default_rules_text(), "rules.csv (packaged)")
    p = Path(path)
    if not p.is_file():
        raise RuleError(f"rules table {p} does not exist")
    return parse_rules(p.read_text(encoding="utf-8"), str(p))
