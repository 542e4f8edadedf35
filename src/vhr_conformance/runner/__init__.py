"""Running the conformance suites: catalogue, IG model, `vhr run`."""
