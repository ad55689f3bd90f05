"""The verbs that compose the library, one module each where they do: `local` (run, data, audit,
train, runs, predict, models, config), `new` (layout inference and the competition's scaffold),
`reproduce`, `compare` (and learning-curve), `kernel_runner` (the script a Kaggle kernel runs) and
`printing` (what they print about runs and submissions). `kit.cli.VERBS` names each verb's home.

Only this package imports across the library's packages upward; the library (config, data,
training, predict, submission, tune, kaggle) never imports a verb.
"""
