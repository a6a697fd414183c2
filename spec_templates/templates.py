"""The one Jinja environment of spec_templates: its templates (unit.md.j2, spec.md.j2, stream_tb.py.j2, ...) and
inline behaviour texts, all with StrictUndefined (a missing value is an error, never an empty string)."""

from __future__ import annotations

import functools
from importlib import resources

import jinja2


@functools.cache
def environment(trim: bool = True) -> jinja2.Environment:
    """`trim`: trim_blocks/lstrip_blocks for Markdown; off for generated Python, where indentation matters."""
    env = jinja2.Environment(loader=jinja2.FunctionLoader(_load), undefined=jinja2.StrictUndefined,
                             trim_blocks=trim, lstrip_blocks=trim, keep_trailing_newline=True, autoescape=False)
    env.filters["n"] = lambda value: f"{value:,}"  # thousands separators
    return env


def _load(name: str) -> str:
    """`unit.md.j2`, or a subpackage's template as `execution/execution.md.j2`."""
    return resources.files("spec_templates").joinpath(*name.split("/")).read_text()


def render(template: str, *, trim: bool = True, **values) -> str:
    """A packaged template rendered with `values`."""
    return environment(trim).get_template(template).render(**values)


def render_text(text: str, **values) -> str:
    """An inline template (a unit's behaviour text)."""
    return environment().from_string(text).render(**values)
