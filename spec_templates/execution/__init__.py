"""Execution-level co-optimisation on the derived accelerator: decode and prefill time, speculative decoding,
small-to-large cascades, memory-efficient (tiled) attention and operator fusion (`hwagent plan`).

Modules: `engine` (the emitted GEMM engine and the budget), `attention`, `fusion`, `decode`, `speculative`
(speculative decoding and cascades), `plan` (everything for one workload, JSON and Markdown).
"""
