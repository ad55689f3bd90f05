"""The Optuna search space of fashion-mnist: one function of the trial returning config sections.

`make tune COMP=fashion` samples it once per trial; every key must exist in kit/config/schema.py (an
unknown one stops the study at once). Parameter names repeat the config keys they set, so the
summary table and the dashboard read like the config.
"""


def space(trial) -> dict[str, dict]:
    """Model and width, optimiser and schedule, regularisation, ReduceLROnPlateau, light augmentation."""
    # small models only: a CPU trial takes seconds to minutes; deotte_cnn is for a GPU study
    model = trial.suggest_categorical("model", ["air", "dense", "dnn_dropout", "cnn"])
    # one range for x and y: clothes are centred alike in both directions
    shift = trial.suggest_float("shift_range", 0.0, 0.12)
    return {
        "train": {
            "model": model,
            "width": trial.suggest_categorical("width", [0.5, 1.0, 1.5]),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 1e-2, log=True),
            # the default's one-cycle schedule, or ReduceLROnPlateau (its factor and patience below)
            "schedule": trial.suggest_categorical("schedule", ["onecycle", "plateau"]),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "label_smoothing": trial.suggest_float("label_smoothing", 0.0, 0.15),
            "reduce_lr_factor": trial.suggest_float("reduce_lr_factor", 0.2, 0.7),
            "reduce_lr_patience": trial.suggest_int("reduce_lr_patience", 1, 4),
        },
        "augment": {
            "width_shift_range": shift,
            "height_shift_range": shift,
            "rotation_range": trial.suggest_float("rotation_range", 0.0, 12.0),
            "zoom_range": trial.suggest_float("zoom_range", 0.0, 0.12),
            # mirrored clothes are still clothes (unlike digits)
            "horizontal_flip": trial.suggest_categorical("horizontal_flip", [True, False]),
        },
    }
