import copy

import pytest

from hepatwin.checks import decompensated_hbv
from hepatwin.scenario import parse_scenario
from hepatwin.simulate import simulate


@pytest.fixture(scope="session")
def demo_pair():
    """Standard care and MSC 1e8 x3 for the demo patient, to day 365."""
    base = simulate(parse_scenario(decompensated_hbv(None, end_day=365)))
    msc = simulate(parse_scenario(decompensated_hbv(1e8, end_day=365)))
    return base, msc


@pytest.fixture
def scenario_dict():
    """A small valid scenario dictionary to mutate in tests."""
    return copy.deepcopy(decompensated_hbv(5e7, end_day=60))
