"""Virtual clinical trials: protocols, runner, tables, analysis, power, validation."""

from .protocol import Arm, Endpoint, Protocol, load_protocol, parse_protocol
from .runner import TrialResult, randomise, run_trial

__all__ = ["Arm", "Endpoint", "Protocol", "TrialResult", "load_protocol", "parse_protocol", "randomise",
           "run_trial"]
