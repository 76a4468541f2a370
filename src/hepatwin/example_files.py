"""Where the bundled example inputs are: scenarios, populations, trial protocols and tissue runs.

They ship inside the package as package data (`hepatwin/examples/`), so `hepatwin validate` and
`hepatwin calibrate` find the reference trials and the natural-history cohort from an installed wheel
as they do from a source checkout (whose top-level `examples/` is a link to the same folder).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: the example files `hepatwin validate` and `hepatwin calibrate` read by default, relative to the examples
#: folder (the two trial protocols name hbv_decompensated.toml as their population)
VALIDATION_INPUTS = (
    "trials/zhongnan2024.toml",
    "trials/zhang2012.toml",
    "populations/hbv_decompensated.toml",
    "populations/cirrhosis_natural_history.toml",
    "populations/alcohol_cirrhosis_natural_history.toml",
)

_extracted: Path | None = None


def examples_dir() -> Path:
    """The folder of the example inputs shipped with hepatwin (`trials/`, `populations/`, `scenarios/`, `tissue/`).

    Found through `importlib.resources`, so it is the installed package's copy wherever hepatwin is installed
    (a checkout installed in editable mode: `src/hepatwin/examples`). A package imported from a zip archive has
    its examples copied to a temporary folder once per process, since protocols name their population files by
    relative path.
    """
    root = files("hepatwin") / "examples"
    if isinstance(root, Path):
        return root
    return _extract(root)


def _extract(root) -> Path:
    global _extracted
    if _extracted is None:
        import atexit
        import shutil
        import tempfile

        target = Path(tempfile.mkdtemp(prefix="hepatwin-examples-"))
        atexit.register(shutil.rmtree, target, ignore_errors=True)

        def copy(node, dest: Path) -> None:
            for child in node.iterdir():
                if child.is_dir():
                    (dest / child.name).mkdir()
                    copy(child, dest / child.name)
                else:
                    (dest / child.name).write_bytes(child.read_bytes())

        copy(root, target)
        _extracted = target
    return _extracted


__all__ = ["VALIDATION_INPUTS", "examples_dir"]
