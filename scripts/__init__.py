"""Project scripts: install helpers, the test stack, exports and benchmarks."""
