"""`vhr audit`: data quality of a store's own data — correct, complete, clean, live ("đúng – đủ –
sạch – sống", Decision 1923/QĐ-BYT) — streamed from NDJSON, aggregated out of core in DuckDB."""
