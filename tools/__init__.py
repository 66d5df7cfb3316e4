"""Developer tools: evaluation, baseline, benchmark, threshold tuning, test stack."""
