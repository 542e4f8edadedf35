"""Load and capacity testing with Locust (``vhr load``).

The package is split so that only :mod:`.user` and :mod:`.engine` import Locust (which
monkey-patches the standard library with gevent). Everything the CLI and the tests need to parse
workloads and SLOs, or to evaluate and report results, is importable without that side effect.
"""

from __future__ import annotations
