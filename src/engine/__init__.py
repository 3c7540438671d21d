"""How a run's heavy stages are executed: on every core of this machine, or on a Ray cluster.

`work.py` holds what is done per input file (read, identify stage 1, chunk), the same under both
engines. `local.py` runs it in a process pool (`system.workers`); `ray_engine.py` runs it, the
agent LLM calls and scoring on Ray Data, with one rate limit and one budget shared by every
worker (`limits.py`). The pipeline picks an engine (`engine_for`) and keeps the rest: the one
SQLite store, dedup, the size cap, split and export stay on this machine.
"""
