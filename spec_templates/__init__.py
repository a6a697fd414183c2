"""Accelerator spec templates (Jinja) and spec derivation from workload profiles."""
