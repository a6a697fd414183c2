"""cocotb testbenches of the baseline accelerator (run through accelerator_baseline.sim)."""
