"""LLM providers behind one protocol (`agent.llm.base`), built from model strings (`agent.llm.client`)."""

from agent.llm.base import Completion, LLMError, Message, Request, Usage
from agent.llm.client import LLMClient, default_model, parse_model, require_credentials

__all__ = ["Completion", "LLMClient", "LLMError", "Message", "Request", "Usage", "default_model", "parse_model",
           "require_credentials"]
