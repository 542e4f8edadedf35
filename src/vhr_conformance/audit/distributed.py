"""The facts stage on Dask distributed, when one machine is not enough.

The same chunks as the single-machine mode are submitted as Dask tasks (`facts_bytes`); each task
returns the facts of its chunk and the client writes them as ``facts-NNNNNN.ndjson``, numbered by
chunk, so the DuckDB aggregation that follows reads exactly the files it reads in the
single-machine mode and gives the same figures. Workers need not share a disk with the client:
chunks go to them and facts come back over Dask's own transport. At most two tasks per worker
thread are in flight, so the client's memory stays bounded whatever the size of the store.

``--scheduler ADDRESS`` uses a running cluster (``dask scheduler`` and ``dask worker`` with this
package and the same IG installed on every worker); ``--dask-local N`` starts a LocalCluster of N
worker processes (one thread each) bound to 127.0.0.1, for tests and a single large machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vhr_conformance.i18n import Text, UserError

if TYPE_CHECKING:
    from vhr_conformance.audit.engine import AuditOptions

WORKER_MEMORY = "1GB"  # per LocalCluster worker: Dask pauses and restarts a worker beyond it


def _client(options: AuditOptions, stack: ExitStack, work: Path) -> Any:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserError(
            Text(
                "Chế độ phân tán cần Dask distributed.",
                "The distributed mode needs Dask distributed.",
            ),
            location="--scheduler / --dask-local",
            hint=Text(
                "Cài: pip install 'vhr-conformance[distributed]'",
                "Install: pip install 'vhr-conformance[distributed]'",
            ),
        ) from None
    if options.scheduler:
        try:
            return stack.enter_context(Client(options.scheduler, timeout=options.dask_connect_s))
        except (OSError, TimeoutError) as exc:
            raise UserError(
                Text(
                    "Không kết nối được bộ lập lịch Dask: {e}",
                    "Could not connect to the Dask scheduler: {e}",
                ).format(e=exc),
                location=options.scheduler,
            ) from None
    cluster = stack.enter_context(
        LocalCluster(
            n_workers=options.dask_local,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=WORKER_MEMORY,
            local_directory=str(work / "dask"),
            silence_logs=logging.WARNING,
        )
    )
    return stack.enter_context(Client(cluster, timeout=options.dask_connect_s))


def collect_facts_dask(
    options: AuditOptions,
    work: Path,
    batches: Iterator[tuple[str, int, bytes]],
    facts_bytes: Callable[[tuple[str, int, bytes]], tuple[int, bytes]],
) -> int:
    """Run `facts_bytes` (the engine's unit of work, passed in so this module needs no import of
    the engine) on every chunk as a Dask task; write each result as the chunk's facts file."""
    from distributed import wait

    deadline = time.monotonic() + options.dask_timeout_s
    total = 0
    with ExitStack() as stack:
        client = _client(options, stack, work)
        where = options.scheduler or "--dask-local"
        try:  # a scheduler without workers would take tasks and never run them
            client.wait_for_workers(1, timeout=options.dask_connect_s)
        except TimeoutError:
            raise UserError(
                Text("Bộ lập lịch Dask không có worker nào.", "The Dask scheduler has no worker."),
                location=where,
                hint=Text("Khởi động: dask worker ĐỊA_CHỈ", "Start one: dask worker ADDRESS"),
            ) from None
        window = 2 * max(1, sum(client.nthreads().values()))
        pending: dict[Any, Path] = {}  # future → its facts file

        def drain(until: int) -> None:
            nonlocal total
            while len(pending) > until:
                try:
                    done = wait(
                        list(pending),
                        timeout=max(0.0, deadline - time.monotonic()),
                        return_when="FIRST_COMPLETED",
                    ).done
                except TimeoutError:
                    raise UserError(
                        Text(
                            "Giai đoạn tính dữ kiện trên Dask quá hạn {s} s.",
                            "The facts stage on Dask passed its {s} s deadline.",
                        ).format(s=options.dask_timeout_s),
                        location=where,
                    ) from None
                for future in done:
                    path = pending.pop(future)
                    try:
                        count, data = future.result()
                    except Exception as exc:  # e.g. a remote worker without this package or its IG
                        raise UserError(
                            Text(
                                "Một tác vụ Dask thất bại: {e}",
                                "A Dask task failed: {e}",
                            ).format(e=f"{type(exc).__name__}: {exc}"),
                            location=where,
                            hint=Text(
                                "Mỗi worker cần cài vhr-conformance và cùng gói IG.",
                                "Every worker needs vhr-conformance and the same IG package installed.",
                            ),
                        ) from None
                    path.write_bytes(data)
                    total += count
                    future.release()

        for n, batch in enumerate(batches):
            # pure=False: two identical chunks are still two tasks, each with its own file
            future = client.submit(facts_bytes, batch, pure=False, retries=1)
            pending[future] = work / f"facts-{n:06d}.ndjson"
            drain(window - 1)
        drain(0)
    return total
