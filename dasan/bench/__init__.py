"""Benchmarks behind ``dasan bench …`` (performance is measured here, never in unit tests)."""
