"""`train`: upload a validated export to a provider, start its fine-tuning job, follow and cancel it.

`plan.py` validates and exports the stored dataset and pins the files; `run.py` uploads (recorded
before any job exists), creates or finds the job, and keeps its status in SQLite; one trainer per
provider (`*_trainer.py`) speaks its SDK or REST API. This package sits beside `pipeline/` (layer 5):
it uses `export/` and `targets/` and is used by `cli/` only.
"""
