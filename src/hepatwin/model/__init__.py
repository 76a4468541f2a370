"""The liver-MSC patient model, written in the spec language (one module per mechanism)."""

from functools import lru_cache

from ..spec.model import ModelSpec
from . import (
    events,
    fibrosis,
    inflammation,
    injury,
    labs,
    microcirculation,
    msc,
    observables,
    regeneration,
    survival,
)
from .injury import ETIOLOGIES
from .msc import CELL_SOURCES, ROUTES

__all__ = ["CELL_SOURCES", "ETIOLOGIES", "ROUTES", "build_model"]


@lru_cache(maxsize=1)
def build_model() -> ModelSpec:
    """The default hepatwin liver-MSC model."""
    modules = [
        injury.module(),
        inflammation.module(),
        fibrosis.module(),
        regeneration.module(),
        microcirculation.module(),
        msc.kinetics(),
        *msc.mechanisms(),
        observables.module(),
        survival.module(),
        events.module(),
        labs.module(),
    ]
    return ModelSpec("hepatwin_liver_msc", modules,
                     "Organ-level chronic liver disease and mesenchymal stem cell therapy model.")
