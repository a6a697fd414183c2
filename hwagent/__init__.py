"""The `hwagent` command line: the face that wires the parts together (no part imports it)."""
