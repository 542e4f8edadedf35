"""Evidence the ministry can trust: the harness fingerprint, the signed evidence bundle of a run,
`vhr verify`, and certificates. See docs/evidence.md."""
