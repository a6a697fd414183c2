"""Jinja prompt templates for the agent, loaded with importlib.resources."""
