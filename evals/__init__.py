"""Benchmark suites, pass@k scoring, reports and benchmarks."""
