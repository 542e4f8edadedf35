"""The health-record summary (Composition) as a FHIR document Bundle.

Derived from the transaction Bundle without copying resources: the same dictionaries, new
entries (documents carry no ``request``), Composition first as the document rules require.
"""

from __future__ import annotations

from vhr_conformance.fhirutil import references
from vhr_conformance.generator.build import P_DOC, meta


def to_document(transaction: dict) -> dict:
    entries = transaction["entry"]
    comp = next((e for e in entries if e["resource"]["resourceType"] == "Composition"), None)
    if comp is None:
        raise ValueError("transaction Bundle has no Composition")
    rest = [{"fullUrl": e["fullUrl"], "resource": e["resource"]} for e in entries if e is not comp]
    ident = comp["resource"].get("identifier") or transaction["identifier"]
    return {
        "resourceType": "Bundle",
        "meta": meta(P_DOC),
        "identifier": ident,
        "type": "document",
        "timestamp": transaction["timestamp"],
        "entry": [{"fullUrl": comp["fullUrl"], "resource": comp["resource"]}, *rest],
    }


def submissions(transaction: dict) -> list[dict]:
    """One facility submission (vhr-bundle-transaction) per encounter of a patient's Bundle.

    Each holds the encounter, every resource pointing at it, and the closure of what those
    reference (patient, current BHYT card, facilities, practitioners), so every reference
    resolves inside the Bundle.
    """
    from vhr_conformance.generator.build import P_TX

    entries = transaction["entry"]
    by_url = {e["fullUrl"]: e for e in entries}
    current_cov = [
        e
        for e in entries
        if e["resource"]["resourceType"] == "Coverage" and e["resource"].get("status") == "active"
    ]
    out = []
    for enc in (e for e in entries if e["resource"]["resourceType"] == "Encounter"):
        url = enc["fullUrl"]
        chosen = (
            [enc]
            + [
                e
                for e in entries
                if (
                    e["resource"].get("encounter", {}).get("reference") == url
                    and e["resource"]["resourceType"] not in ("Immunization", "Procedure")
                )
                or e["resource"]["resourceType"] == "Patient"
            ]
            + current_cov[-1:]
        )
        seen = {e["fullUrl"] for e in chosen}
        queue = list(chosen)
        while queue:
            for ref in sorted(set(references(queue.pop()["resource"]))):
                if ref in by_url and ref not in seen:
                    seen.add(ref)
                    chosen.append(by_url[ref])
                    queue.append(by_url[ref])
        order = {e["fullUrl"]: i for i, e in enumerate(entries)}
        chosen.sort(key=lambda e: order[e["fullUrl"]])
        out.append(
            {
                "resourceType": "Bundle",
                "meta": meta(P_TX),
                "type": "transaction",
                "timestamp": enc["resource"]["period"].get("end", transaction["timestamp"]),
                "entry": chosen,
            }
        )
    return out
