"""The `single` solver: one generation per sample with the suite's upstream convention, judged officially."""

from __future__ import annotations

from agent.llm import LLMClient, LLMError, Message, Request
from agent.llm.client import default_cache_dir, make_provider, parse_model
from evals.executors import simulation_slot
from evals.solvers import Outcome, Solver, UnitError
from evals.solvers.conventions import convention_for, default_sampling
from evals.suites import Problem


class SingleSolver(Solver):
    def __init__(self, suite, settings, unit_root):
        super().__init__(suite, settings, unit_root)
        self.convention = convention_for(suite, settings.examples, settings.rules)
        self.sampling = default_sampling(settings.samples, settings.temperature, settings.top_p,
                                         settings.answer_tokens)
        ref = parse_model(settings.models[0])  # one HTTP client per process; a replay keeps its place: one per sample
        self.provider = None if ref.provider == "replay" else make_provider(ref)

    def solve(self, task: Problem, sample: int) -> Outcome:
        folder = self.unit_dir(task, sample)
        folder.mkdir(parents=True, exist_ok=True)
        model = self.settings.models[0]
        client = LLMClient(model, cache_dir=default_cache_dir() if self.settings.cache else None,
                           record_to=folder / "transcript.jsonl", provider=self.provider)
        system, user = self.convention.messages(task)
        request = Request((Message("system", system.strip()), Message("user", user)), n=1,
                          temperature=self.sampling.temperature, top_p=self.sampling.top_p,
                          max_tokens=self.sampling.max_tokens, seed=sample if self.settings.samples > 1 else None)
        try:
            completion = client.complete(request)
        except LLMError as exc:
            raise UnitError(str(exc)) from None
        answer = completion.texts[0]
        (folder / "response.md").write_text(answer)
        sample_text = self.convention.sample(task, answer)
        with simulation_slot():
            verdict = self.suite.judge(task, sample_text)
        usage, calls = completion.usage, 0 if completion.cached else 1
        tier = {"tier": 0, "model": model, "calls": calls, "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens, "cost_usd": usage.cost_usd}
        return Outcome(sample_text, verdict, 1, calls, usage.prompt_tokens, usage.completion_tokens, usage.cost_usd,
                       model, 0, str(folder), 1 if verdict.passed else None, [tier])
