"""Tuning: an Optuna study around the same `fit()` as `make train` (optuna-examples' shape).

study.py      the verbs (`make tune`, `make dashboard`): open or continue a study, run trials
space.py      competitions/<slug>/space.py: one function of the trial returning config sections
storage.py    SQLite, journal file or RDB URL; reachability and password-free printing
objective.py  one trial: sampled config, every fold fitted with pruning, failures contained
workers.py    several processes on one machine sharing a study
summary.py    the table of best trials, PNG reports, best_params.toml (read by PARAMS=best)
"""
