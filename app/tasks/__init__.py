"""Job functions, run by RQ workers or the in-process runner (see app.jobs)."""
