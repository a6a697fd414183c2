"""Hand-written expert accelerator (int8 systolic GEMM + integer transformer kernels) and its golden model."""
