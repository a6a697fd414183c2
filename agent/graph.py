"""The agent loop as a LangGraph graph: plan -> generate(k) -> lint -> simulate -> ppa -> rank -> repair.

This module only wires the nodes (agent/nodes/) together. State is a plain TypedDict (agent.context), checkpointed
to SQLite after every node, so a killed run resumes where it was. Only the best candidate, the latest feedback and
one line per earlier iteration go back into the prompt, which keeps the prompt size flat over iterations. Specs
without a testbench get a cocotb testbench written by the agent first, and a judge step decides who is wrong when
design and testbench disagree.
"""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph

from agent.context import AgentState, RunContext, initial_state
from agent.nodes import control, evaluate, generate, judge, rank
from agent.options import RunOptions

__all__ = ["AgentState", "RunContext", "RunOptions", "build_graph", "initial_state", "recursion_limit"]

NODES = {"plan": generate.plan, "write_testbench": generate.write_testbench, "generate": generate.generate,
         "lint": evaluate.lint, "simulate": evaluate.simulate, "ppa": evaluate.ppa, "rank": rank.rank,
         "judge": judge.judge, "repair": control.repair, "finalize": control.finalize}
ROUTES = {  # node -> (router, the nodes it may choose)
    START: (control.after_start, ["plan", "write_testbench", "generate"]),
    "plan": (control.after_plan, ["write_testbench", "generate"]),
    "write_testbench": (control.after_testbench, ["simulate", "generate"]),
    "rank": (control.after_rank, ["finalize", "judge", "repair"]),
    "judge": (control.after_judge, ["write_testbench", "repair"]),
    "repair": (control.after_repair, ["finalize", "generate"]),
}
EDGES = [("generate", "lint"), ("lint", "simulate"), ("simulate", "ppa"), ("ppa", "rank"), ("finalize", END)]


def build_graph(ctx: RunContext, checkpointer=None):
    graph = StateGraph(AgentState)
    for name, node in NODES.items():
        graph.add_node(name, partial(node, ctx=ctx))
    for source, (router, targets) in ROUTES.items():
        graph.add_conditional_edges(source, partial(router, ctx=ctx), targets)
    for source, target in EDGES:
        graph.add_edge(source, target)
    return graph.compile(checkpointer=checkpointer)


def recursion_limit(options: RunOptions) -> int:
    """Supersteps: generate, lint, simulate, ppa, rank, repair per iteration, plus judge, testbench, simulate,
    ppa, rank for each testbench rewrite, plus start and finalize."""
    return (6 + 5 * (options.testbench_rewrites + 1)) * options.max_iters + 12
