"""`vhr console`: the ministry's web application over the harness's own modules.

Vendors register systems and endpoints and run the suites; reviewers judge attestations; the
ministry certifies. Every verdict comes from `vhr run` itself (run as a subprocess by a worker),
every bundle from `vhr_conformance.evidence.bundle`, every certificate from
`vhr_conformance.evidence.certificate`: the console stores and shows, it never re-judges.
"""
