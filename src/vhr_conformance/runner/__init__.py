"""Running the conformance suites: IG model, `vhr run`."""
