"""The loopback LLM servers and scripted-transcript helpers of tests/agent, importable here too."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "agent"))
