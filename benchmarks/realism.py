"""Realism of a generated cohort: each sourced table against the same figure measured on the cohort.

Generates N patients (default 20,000, issue 18) and prints, per table, Duncan's dissimilarity
index D between the cohort and the source (0 = identical), its bound (stated tolerance + twice what
sampling alone gives N patients) and the verdict; then a few headline shares. Exit code 1 when a
table drifted past its bound or a BHYT card's level does not fit its group (QĐ 1351).

    python benchmarks/realism.py [--patients 20000] [--seed 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter

from vhr_conformance.generator import generate_patients
from vhr_conformance.generator import realism as R
from vhr_conformance.generator import sources as S
from vhr_conformance.generator.world import build_world

MEKONG_2025 = {"82", "86", "91", "92", "96"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default="", help="also write the checks to this JSON file")
    args = ap.parse_args(argv)
    w = build_world()
    t0 = time.process_time()
    ps = R.people(generate_patients(args.patients, args.seed))
    checks = R.measure_people(ps, world=w)
    dt = time.process_time() - t0
    print(
        f"nhóm {len(ps)} người bệnh, seed {args.seed} / cohort of {len(ps)} patients, seed {args.seed} "
        f"({dt:.1f} s CPU)"
    )
    print(R.format_checks(checks))
    n = len(ps)
    succ = {c: s for c, s in w.legacy_successor.items() if s}
    expected = S.province_2025(succ)
    got = Counter(p.province for p in ps)
    print()
    for prov in ("79", "01", "46"):
        print(
            f"{w.province[prov]:<28} {got[prov] / n:6.2%}, nguồn / source {expected[prov]:6.2%} "
            f"(tỷ số / ratio {got[prov] / n / expected[prov]:.2f})"
        )
    khmer = [p for p in ps if p.ethnicity == "05"]
    if khmer:
        share = sum(p.province in MEKONG_2025 for p in khmer) / len(khmer)
        print(f"người Khmer sống ở ĐBSCL / Khmer living in the Mekong Delta {share:6.1%}")
    with_table = [p for p in ps if p.ethnicity != S.KINH and S.own_surnames(p.ethnicity)]
    if with_table:
        own = sum(S.canonical_surname(p.family) in S.own_surnames(p.ethnicity) for p in with_table) / len(
            with_table
        )
        print(
            f"người DTTS mang họ của dân tộc mình / minority patients with their group's own name {own:6.1%}"
        )
    fam = Counter(p.family for p in ps)
    tail = 1 - sum(S.kinh_surnames().get(k, 0) for k in S.survey_surnames())
    print(f"Nguyễn {fam['Nguyễn'] / n:6.2%}; họ Kinh ngoài 14 họ / Kinh names beyond the 14: {tail:6.2%}")
    cards = sum(len(p.cards) for p in ps)
    misfits = R.card_misfits(ps)
    print(
        f"thẻ BHYT / BHYT cards {cards}: sai mức hưởng hay mã thẻ / misfit level or number {len(misfits)}"
        f" ({len(misfits) / max(cards, 1):.2%})"
    )
    for card, why in misfits[:5]:
        print(f"  {card.value} {card.group}/{card.level}: {why.vi} / {why.en}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            rows = [{**dataclasses.asdict(c), "ok": c.ok} for c in checks]
            json.dump(rows, fh, ensure_ascii=False, indent=1)
    return 0 if all(c.ok for c in checks) and not misfits else 1


if __name__ == "__main__":
    sys.exit(main())
