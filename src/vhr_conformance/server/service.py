"""One server instance: the shared :class:`Context` with its interactions, searches, operations
and bundles, and the loading of fixture folders (``vhr serve --load``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import orjson

from vhr_conformance.server import errors as E
from vhr_conformance.server.auditevents import AuditEvents
from vhr_conformance.server.bundles import Bundles
from vhr_conformance.server.checks import duplicate_key
from vhr_conformance.server.context import Context
from vhr_conformance.server.errors import FhirError
from vhr_conformance.server.interactions import Interactions
from vhr_conformance.server.model import Caller, ServerConfig
from vhr_conformance.server.operations import Operations
from vhr_conformance.server.searches import Searches

log = logging.getLogger("vhr.server")


class FhirApp(Context):
    """State and interactions of one server instance (``app.state.fhir``)."""

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config)
        self.rest = Interactions(self)
        self.searches = Searches(self)
        self.operations = Operations(self)
        self.bundles = Bundles(self, self.rest, self.searches)
        self.audit_events: AuditEvents = self.searches.audit_events

    def load_directory(self, folder: str | Path) -> tuple[int, int]:
        """Load every JSON bundle/resource under `folder` (transactions stay atomic). → (files, resources).

        Nothing is skipped silently: every file (or folder) not loaded, and every batch entry
        refused, is listed in `self.load_skipped` with its reason, and logged."""
        caller = Caller("loader", None, None)
        files = resources = 0
        self.load_skipped = []
        skip = self.load_skipped

        def unreadable(exc: OSError) -> None:
            skip.append((str(exc.filename), E.LOAD_UNREADABLE.format(e=exc.strerror or exc)))

        paths: list[Path] = []
        for root, dirs, names in os.walk(folder, onerror=unreadable):
            dirs.sort()
            paths += [Path(root) / n for n in names if n.endswith(".json")]
        for path in sorted(paths):
            try:
                raw = path.read_bytes()
                data = orjson.loads(raw)
            except OSError as exc:
                skip.append((str(path), E.LOAD_UNREADABLE.format(e=exc.strerror or exc)))
                continue
            except orjson.JSONDecodeError as exc:
                skip.append((str(path), E.BAD_JSON.format(err=str(exc).split(":")[0])))
                continue
            if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
                skip.append((str(path), E.NOT_RESOURCE))
                continue
            duplicate = duplicate_key(raw)
            if duplicate is not None:
                skip.append((str(path), E.DUPLICATE_KEY.format(k=duplicate[:64])))
                continue
            try:
                if data["resourceType"] == "Bundle" and data.get("type") in ("transaction", "batch"):
                    res = self.bundles.bundle(caller, data, "minimal")
                    resources += len(data.get("entry") or [])
                    body = res.body if isinstance(res.body, dict) else {}
                    for i, entry in enumerate(body.get("entry") or []):
                        status = str((entry.get("response") or {}).get("status", ""))
                        if status[:1] in ("4", "5"):
                            resources -= 1
                            skip.append((f"{path} entry[{i}]", E.LOAD_ENTRY.format(s=status)))
                elif data["resourceType"] == "Bundle":
                    skip.append((str(path), E.LOAD_BUNDLE_TYPE.format(t=str(data.get("type"))[:40])))
                    continue
                elif data.get("id"):
                    self.rest.update(caller, data["resourceType"], data["id"], data, None)
                    resources += 1
                else:
                    res = self.rest.create(caller, data["resourceType"], data, None)
                    resources += 1 if res.status < 300 else 0
            except FhirError as err:
                skip.append((str(path), err.text))
                continue
            files += 1
        for where, why in skip:
            log.warning("not loaded %s: %s", where, why.en)
        return files, resources
