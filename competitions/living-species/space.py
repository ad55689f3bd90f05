"""The Optuna search space of living-species: one function of the trial returning config sections.

`make tune COMP=living-species DATA=<folder>` samples it once per trial and scores macro-F1 (the
competition's metric). The imbalance strategy is a parameter like any other: which of class
weights, over- or under-sampling helps macro-F1 depends on how small the small classes are.
"""


def space(trial) -> dict[str, dict]:
    """colour_cnn's size and optimiser, the imbalance strategy, light augmentation."""
    # (resample, class_weight) pairs; under-sampling with class weights would be redundant
    imbalance = trial.suggest_categorical("imbalance", ["balanced", "over", "under", "none"])
    shift = trial.suggest_float("shift_range", 0.0, 0.15)
    return {
        "train": {
            # from scratch on a CPU; transfer models are a GPU study (PRESET=transfer)
            "model": "colour_cnn",
            "width": trial.suggest_categorical("width", [0.5, 1.0, 1.5]),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 5e-3, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64]),
            "dropout": trial.suggest_float("dropout", 0.1, 0.5),
            "label_smoothing": trial.suggest_float("label_smoothing", 0.0, 0.1),
            "resample": imbalance if imbalance in ("over", "under") else "none",
            "class_weight": "balanced" if imbalance == "balanced" else "none",
        },
        "augment": {
            "width_shift_range": shift,
            "height_shift_range": shift,
            "zoom_range": trial.suggest_float("zoom_range", 0.0, 0.15),
            # photographs of plants and animals mirror well; off for data whose classes do not
            "horizontal_flip": trial.suggest_categorical("horizontal_flip", [True, False]),
        },
    }
