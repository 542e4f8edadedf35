"""Probable duplicate persons by probabilistic record linkage (Splink, Fellegi-Sunter, on DuckDB).

The model is configured, not trained: m and u probabilities below are stated priors for
Vietnamese patient registers (names compared without tone marks, since the same person is often
typed with and without them; the given name — the last word — weighed separately because family
and middle names are shared by many). Comparing pairs is limited by blocking: same birth date and
sex, or same CCCD, or same BHYT number. A pair is kept above `THRESHOLD` match probability.
"""

from __future__ import annotations

import logging
from typing import Any

THRESHOLD = 0.9
PRIOR_MATCH = 1e-4  # probability that two random records are the same person


def _comparisons() -> list[Any]:
    import splink.comparison_library as cl

    return [
        # levels (null ignored): exact, JW ≥ 0.97, ≥ 0.92, ≥ 0.85, else
        cl.JaroWinklerAtThresholds("name", [0.97, 0.92, 0.85]).configure(
            m_probabilities=[0.80, 0.10, 0.06, 0.03, 0.01],
            u_probabilities=[0.0005, 0.002, 0.01, 0.05, 0.9375],
        ),
        # levels: exact, JW ≥ 0.95, else
        cl.JaroWinklerAtThresholds("given", [0.95]).configure(
            m_probabilities=[0.90, 0.07, 0.03], u_probabilities=[0.03, 0.01, 0.96]
        ),
        cl.ExactMatch("cccd").configure(m_probabilities=[0.98, 0.02], u_probabilities=[1e-6, 1 - 1e-6]),
        cl.ExactMatch("bhyt").configure(m_probabilities=[0.95, 0.05], u_probabilities=[1e-6, 1 - 1e-6]),
        cl.ExactMatch("birth").configure(m_probabilities=[0.97, 0.03], u_probabilities=[1e-4, 1 - 1e-4]),
        cl.ExactMatch("province").configure(m_probabilities=[0.9, 0.1], u_probabilities=[0.05, 0.95]),
    ]


def probable_pairs(con: Any, table: str = "res") -> list[tuple[str, str, float]]:
    """(key, key, match probability) of every pair of Patients above the threshold."""
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    con.execute(
        f"""CREATE OR REPLACE TABLE persons AS
            SELECT key AS unique_id, nullif(person.name, '') AS name,
                   nullif(string_split(person.name, ' ')[-1], '') AS given,
                   person.birth AS birth, person.gender AS gender, person.cccd AS cccd,
                   person.bhyt AS bhyt, person.province AS province
            FROM {table} WHERE type = 'Patient'"""
    )
    if con.execute("SELECT count(*) FROM persons").fetchall()[0][0] < 2:
        return []
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("birth", "gender"),
            block_on("cccd"),
            block_on("bhyt"),
        ],
        comparisons=_comparisons(),
        probability_two_random_records_match=PRIOR_MATCH,
        retain_intermediate_calculation_columns=False,
    )
    api = DuckDBAPI(connection=con)
    linker = Linker(api.register("persons"), settings, log_level=logging.WARNING)
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    rows = predictions.as_duckdbpyrelation().select("unique_id_l, unique_id_r, match_probability").fetchall()
    return [(str(a), str(b), float(p)) for a, b, p in rows]
