"""Throughput of the validator on a corpus of VHR resources, against fhir.resources R4B parsing.

Prints resources/second with all layers (dict input, bytes input, bytes input with every issue's
line and column read) and with structure only, the fhir.resources R4B parse of
the same corpus as the baseline (same process, same run, rounds interleaved, best of 7), the ratios, and the RSS of the compiled
default validator. Corpus: generated patients (vhr_conformance.generator) when available, else
fixtures/ bundles, else the IG's examples; at least 2,000 resources.
Usage: ``python benchmarks/validate.py [--min-resources N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import resource
import sys
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _flatten(res: Any, out: list[dict[str, Any]]) -> None:
    if isinstance(res, dict) and res.get("resourceType") == "Bundle":
        for e in res.get("entry") or ():
            if isinstance(e, dict) and isinstance(e.get("resource"), dict):
                _flatten(e["resource"], out)
    elif isinstance(res, dict) and "resourceType" in res:
        out.append(res)


BUNDLES: list[dict[str, Any]] = []  # the generated transaction Bundles the corpus was cut from


def build_corpus(minimum: int) -> tuple[list[dict[str, Any]], str]:
    out: list[dict[str, Any]] = []
    try:
        from vhr_conformance.generator import generate_patients

        BUNDLES.clear()
        for bundle in generate_patients(10_000, seed=7):
            BUNDLES.append(bundle)
            _flatten(bundle, out)
            if len(out) >= minimum:
                return out, "vhr_conformance.generator (seed 7)"
    except Exception as exc:  # the generator is another stage; fall back to files on disk
        print(f"generator unavailable ({type(exc).__name__}: {exc}); using files", file=sys.stderr)
    out.clear()
    sources = sorted((ROOT / "fixtures").rglob("*.json")) + sorted(
        (ROOT / "profiles" / "package").glob("*.json")
    )
    files = [p for p in sources if "manifest" not in p.name and p.name not in ("package.json", ".index.json")]
    base: list[dict[str, Any]] = []
    for p in files:
        try:
            _flatten(orjson.loads(p.read_bytes()), base)
        except orjson.JSONDecodeError:
            continue
    if not base:
        raise SystemExit("no corpus: neither the generator nor fixtures/ nor profiles/package are available")
    while len(out) < minimum:
        out.extend(base)
    return out, f"{len(files)} files from fixtures/ and profiles/package (repeated)"


def bench(cases: dict[str, tuple[Any, list[Any]]], rounds: int = 7) -> dict[str, float]:
    """Best resources/second of each case; rounds interleave the cases so load spikes hit all alike.

    Timed in this process's CPU time: on a shared machine, time spent descheduled is not ours.
    """
    best = {name: float("inf") for name in cases}
    for _ in range(rounds):
        for name, (fn, corpus) in cases.items():
            gc.collect()
            t = time.process_time()
            for r in corpus:
                fn(r)
            best[name] = min(best[name], time.process_time() - t)
    return {name: len(cases[name][1]) / t for name, t in best.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--min-resources", type=int, default=2000)
    args = ap.parse_args()
    rss0 = _rss_mb()
    from vhr_conformance.validator import ALL_LAYERS, STRUCTURE_ONLY, Validator

    corpus, origin = build_corpus(args.min_resources)
    v = Validator.default()
    for r in corpus:  # warm-up: compiles every type, profile and value set the corpus meets
        v.validate(r)
    rss_validator = _rss_mb()
    raw = [orjson.dumps(r) for r in corpus]

    from fhir.resources.R4B import get_fhir_model_class  # version 8 API

    def r4b(r: dict[str, Any]) -> None:
        # R4B differs from R4 in places; a rejection still costs the parse
        with contextlib.suppress(Exception):
            get_fhir_model_class(r["resourceType"]).model_validate(r)

    ok = sum(1 for r in corpus if not [i for i in v.validate(r) if i.severity in ("error", "fatal")])
    rates = bench(
        {
            "all": (lambda r: v.validate(r, layers=ALL_LAYERS), corpus),
            "raw": (lambda b: v.validate(b, layers=ALL_LAYERS), raw),
            # the same, reading every issue's line and column (positions are computed lazily)
            "placed": (lambda b: [i.position for i in v.validate(b, layers=ALL_LAYERS)], raw),
            "struct": (lambda r: v.validate(r, layers=STRUCTURE_ONLY), corpus),
            "r4b": (r4b, corpus),
            **({"bundles": (lambda b: v.validate(b, layers=ALL_LAYERS), BUNDLES)} if BUNDLES else {}),
        }
    )
    all_rate, raw_rate, struct_rate, base_rate = rates["all"], rates["raw"], rates["struct"], rates["r4b"]
    print(f"corpus: {len(corpus)} resources from {origin}; {ok} without errors")
    print(
        f"all layers (dict input):   {all_rate:9.0f} resources/s  ({all_rate / base_rate:.2f}x fhir.resources R4B)"
    )
    print(f"all layers (bytes input):  {raw_rate:9.0f} resources/s  ({raw_rate / base_rate:.2f}x)")
    placed = rates["placed"]
    print(f"  … every issue's line/col read: {placed:9.0f} resources/s  ({placed / base_rate:.2f}x)")
    print(f"structure only:            {struct_rate:9.0f} resources/s  ({struct_rate / base_rate:.2f}x)")
    if BUNDLES:  # whole transaction Bundles: entries plus bundle rules and reference resolution
        bundle_rate = rates["bundles"] * len(corpus) / len(BUNDLES)
        print(
            f"as {len(BUNDLES)} Bundles:        {bundle_rate:9.0f} resources/s  ({bundle_rate / base_rate:.2f}x)"
        )
    print(f"fhir.resources R4B parse:  {base_rate:9.0f} resources/s  (baseline)")
    # Worst case: every resource type, every profile and extension of the packages compiled.
    for rt in sorted(v.schema.resource_types):
        v.schema.type(rt)
    for _pkg, entry in v.packages.entries("StructureDefinition"):
        if entry.url and entry.kind != "logical":
            v.profiles.get(entry.url)
    rss_full = _rss_mb()
    print(
        f"RSS: {rss0:.0f} MB at start, {rss_validator:.0f} MB with the default validator warmed on the corpus, "
        f"{rss_full:.0f} MB with every type and profile compiled (target < 300 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
