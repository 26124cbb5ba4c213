"""Run plumbing shared by the entry points: command-line checks and one-line errors (``cli``),
the config schema (``validation``), building the run's objects (``builders``), run folders,
summaries, resumes, loggers and weight loading."""
