"""Property-based fuzzing, kept fast: a bounded number of examples, no example database on disk.

`VHR_FUZZ_EXAMPLES=2000` (for instance) searches longer; the default keeps `make test` quick.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "vhr-fuzz",
    max_examples=int(os.environ.get("VHR_FUZZ_EXAMPLES", "120")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("vhr-fuzz")
