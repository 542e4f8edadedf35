"""The health-record summary (Composition) as a FHIR document Bundle.

Derived from the transaction Bundle without copying resources: the same dictionaries, new
entries (documents carry no ``request``), Composition first as the document rules require.
"""

from __future__ import annotations

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
