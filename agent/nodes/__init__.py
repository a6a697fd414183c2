"""The agent graph's nodes: module-level functions of `(state, ctx)` returning the state fields they update.

generate: plan, write_testbench, generate     evaluate: lint, simulate, ppa
rank: rank (+ tracing of the best mismatch)    judge: judge (self-written testbenches)
control: repair, finalize, the budget and the routers between nodes
"""
