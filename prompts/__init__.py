"""Jinja prompt templates for the agent, loaded with importlib.resources through one environment."""

from __future__ import annotations

import functools
from importlib import resources

import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FunctionLoader(lambda name: resources.files("prompts").joinpath(
        name).read_text()), undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, autoescape=False)


def render(template: str, **values) -> str:
    """A prompt template rendered with `values`, stripped, with one trailing newline."""
    return environment().get_template(template).render(**values).strip() + "\n"
