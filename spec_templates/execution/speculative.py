"""Speculative decoding and small-to-large cascades on the derived engine.

Speculative decoding (Leviathan et al. 2023): the draft proposes `gamma` tokens (gamma decode passes of the
draft), the target verifies them in one pass of gamma + 1 tokens (an M = gamma + 1 GEMM pass: the weights
stream once). With a per-token acceptance rate alpha (independent tokens), a verify step yields
E = (1 - alpha^(gamma + 1)) / (1 - alpha) tokens; tokens/s = E / (gamma T_draft + T_verify) and the
speed-up is that over 1 / T_target. Both models share the engine (they run one after the other).

Cascade: every query runs on the small model, then a self-test (cost: a fraction of the small model's query)
decides whether to escalate to the large model, which reruns the query. Per query: latency
T_s (1 + c) + e T_l, energy likewise; the break-even escalation rate (where the cascade costs as much as the
large model alone) is 1 - T_s (1 + c) / T_l. A query is a prefill of the prompt plus `answer_tokens`
decode passes (each at the end-of-prompt KV length).
"""

from __future__ import annotations

from pydantic import BaseModel

from spec_templates.execution.engine import ExecutionError


def check_alpha(alpha: float) -> None:
    if not 0 <= alpha < 1:
        raise ExecutionError(f"alpha {alpha:g} is outside [0, 1) (the acceptance rate of a draft token)")


def check_gamma(gamma: int) -> None:
    if gamma < 1:
        raise ExecutionError(f"gamma {gamma} must be at least 1 (draft tokens per verify step)")


def expected_tokens(alpha: float, gamma: int) -> float:
    """Expected tokens per verify step: (1 - alpha^(gamma+1)) / (1 - alpha); gamma + 1 at alpha = 1 (a measured
    draft that always agrees; a given alpha must be below 1, `check_alpha`)."""
    if not 0 <= alpha <= 1:
        raise ExecutionError(f"alpha {alpha:g} is outside [0, 1]")
    check_gamma(gamma)
    return gamma + 1.0 if alpha == 1 else (1 - alpha ** (gamma + 1)) / (1 - alpha)


class SpeculativePoint(BaseModel):
    alpha: float
    gamma: int
    expected_tokens: float
    draft_cycles: int  # gamma draft decode passes
    verify_cycles: int  # one target pass of gamma + 1 tokens
    step_cycles: int
    tokens_per_s: float
    speedup: float


class SpeculativeSweep(BaseModel):
    alpha: float
    source: str  # "given" or "measured"
    points: list[SpeculativePoint]

    @property
    def best(self) -> SpeculativePoint:
        return max(self.points, key=lambda p: p.tokens_per_s)


def speculative_point(alpha: float, gamma: int, draft_cycles: int, verify_cycles: int, target_cycles: int,
                      clock_mhz: float) -> SpeculativePoint:
    """One (alpha, gamma): `draft_cycles` per draft token, `verify_cycles` for the gamma + 1 token pass,
    `target_cycles` per plain target decode token."""
    tokens = expected_tokens(alpha, gamma)
    step = gamma * draft_cycles + verify_cycles
    rate = tokens / step * clock_mhz * 1e6
    return SpeculativePoint(alpha=alpha, gamma=gamma, expected_tokens=tokens, draft_cycles=gamma * draft_cycles,
                            verify_cycles=verify_cycles, step_cycles=step, tokens_per_s=rate,
                            speedup=rate * target_cycles / (clock_mhz * 1e6))


class QueryCost(BaseModel):
    model: str
    seconds: float
    joules: float


class CascadePoint(BaseModel):
    escalation: float
    seconds: float
    joules: float
    latency_vs_large: float
    energy_vs_large: float


class Cascade(BaseModel):
    small: QueryCost
    large: QueryCost
    selftest_cost: float
    answer_tokens: int
    break_even_latency: float  # escalation rate at which the cascade is as slow as the large model alone
    break_even_energy: float
    points: list[CascadePoint]


def cascade(small: QueryCost, large: QueryCost, selftest_cost: float, escalations: list[float],
            answer_tokens: int) -> Cascade:
    if selftest_cost < 0:
        raise ExecutionError(f"self-test cost {selftest_cost:g} must be >= 0 (a fraction of the small model's query)")
    for e in escalations:
        if not 0 <= e <= 1:
            raise ExecutionError(f"escalation rate {e:g} is outside [0, 1]")
    base_s, base_j = small.seconds * (1 + selftest_cost), small.joules * (1 + selftest_cost)
    points = [CascadePoint(escalation=e, seconds=base_s + e * large.seconds, joules=base_j + e * large.joules,
                           latency_vs_large=(base_s + e * large.seconds) / large.seconds,
                           energy_vs_large=(base_j + e * large.joules) / large.joules) for e in escalations]
    return Cascade(small=small, large=large, selftest_cost=selftest_cost, answer_tokens=answer_tokens,
                   break_even_latency=1 - base_s / large.seconds, break_even_energy=1 - base_j / large.joules,
                   points=points)
