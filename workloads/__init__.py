"""Workload profiling and compression of transformer / multimodal foundation models."""
