"""VHR workload for Locust.

Run it through ``vhr load`` (reports, SLO verdict, embedded server), or directly::

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8080 --vhr-workload standard

Options added by this file: ``--vhr-workload NAME|PATH``, ``--vhr-auth none|bearer`` (token in
``$VHR_TOKEN``), ``--vhr-validate-sample RATIO``. The user class and its hooks live in
``vhr_conformance.load.user`` so that the CLI, the benchmark and remote workers share one copy.
"""

from locust import runners

from vhr_conformance.load.user import VhrUser

# Workers report to the master every second (default 3 s) so the timeline has 1 s resolution.
runners.WORKER_REPORT_INTERVAL = 1.0

__all__ = ["VhrUser"]
