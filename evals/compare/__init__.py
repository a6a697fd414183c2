"""Generated vs expert: designs from agent and eval runs next to their references (same flow, same settings),
the hybrid block (the expert top with a generated unit) and the report (compare.json, .md, .html)."""
