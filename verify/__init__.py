"""verify: the real EDA tools behind the agent loop (lint, simulation, PPA), sandboxed.

Imports none of hwagent's other packages.
"""
