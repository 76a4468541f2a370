"""Run manifests: what was run, with which inputs, settings and timings."""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from .. import DISCLAIMER, __version__
from .atomic import write_text

MANIFEST = "manifest.json"


def make_manifest(kind: str, **fields) -> dict:
    """A manifest dictionary with version, platform and creation time filled in."""
    return {
        "kind": kind,
        "hepatwin_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "disclaimer": DISCLAIMER,
        **fields,
    }


def write_manifest(out_dir: str | Path, manifest: dict) -> Path:
    """Write `manifest.json` atomically; written last, it marks the folder complete."""
    return write_text(Path(out_dir) / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")


def invalidate(out_dir: str | Path) -> None:
    """Remove an old manifest before rewriting a folder, so a half-rewritten folder never looks complete."""
    p = Path(out_dir) / MANIFEST
    if p.exists():
        p.unlink()
