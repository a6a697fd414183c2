"""The LLM agent: providers and the generate -> lint -> simulate -> PPA -> repair graph."""
