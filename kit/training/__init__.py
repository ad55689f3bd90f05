"""Training: run folders, one interface per model kind, fine-tuning, resampling, checkpoints.

runs.py          a run: split, `fit` every fold through its kind, results and reports
run_archive.py   a run folder as one zip and back (a kernel's run, fetched by `make kernel-output`)
results.py       FoldResult, RunResult and the `ModelKind` interface
kinds.py         the kinds as classes (KerasKind, SklearnKind); model or checkpoint -> its kind
keras_kind.py    networks: build (scaling + augmentation + network), compile, fit, TTA predict
sklearn_kind.py  scikit-learn baselines: subsampled fit, skops checkpoints, predict_proba
fine_tune.py     the two-stage transfer-learning schedule (frozen base, then its top unfrozen)
optimizers.py    Adam, its schedule (warm-up, cosine), EMA, accumulation, discriminative rates
ema.py           which weights (averaged or raw) validation, checkpoint and backup see
progressive.py   progressive resizing: smaller images for the first epochs
resample.py      class imbalance: over/under-sampling (imbalanced-learn), class weights
catalog.py       the runs of a competition: find, list, resume
checkpoints.py   per-fold backups (resume after Ctrl-C) and history trimming
distribute.py    data parallelism over GPUs; determinism.py seeded, deterministic ops per backend

Comparisons, reproduction and the pipeline itself are verbs: kit/commands/.
"""
