"""Client mode: the harness as the VHR receiving endpoint (`vhr listen`) and a sample sender (`vhr push`)."""

from vhr_conformance.listen.push import BAD_MODES, PushLog, PushOptions, push
from vhr_conformance.listen.recorder import SCENARIOS, ScenarioConfig
from vhr_conformance.listen.session import Listener, SessionReport

__all__ = [
    "BAD_MODES",
    "SCENARIOS",
    "Listener",
    "PushLog",
    "PushOptions",
    "ScenarioConfig",
    "SessionReport",
    "push",
]
