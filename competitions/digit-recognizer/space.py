"""The Optuna search space of digit-recognizer: one function of the trial returning config sections.

`make tune COMP=digits` samples it once per trial; every key must exist in kit/config/schema.py (an
unknown one stops the study at once). Ranges are centred on the anchors' 0.9975 recipe (rotation
15 degrees, zoom 0.15, shifts 0.1, ReduceLROnPlateau halving after 3 flat epochs).
"""


def space(trial) -> dict[str, dict]:
    """CNN choice and width, optimiser and schedule, regularisation, ReduceLROnPlateau, affine augmentation."""
    # convolutional models only: dense networks stop near 0.98 on MNIST
    model = trial.suggest_categorical("model", ["air", "cnn", "dcnn", "deotte_cnn"])
    return {
        "train": {
            "model": model,
            "width": trial.suggest_categorical("width", [0.5, 1.0, 1.5]),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 5e-3, log=True),
            # the default's one-cycle schedule, or ReduceLROnPlateau (its factor and patience below)
            "schedule": trial.suggest_categorical("schedule", ["onecycle", "plateau"]),
            "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
            "dropout": trial.suggest_float("dropout", 0.1, 0.5),
            "label_smoothing": trial.suggest_float("label_smoothing", 0.0, 0.1),
            "reduce_lr_factor": trial.suggest_float("reduce_lr_factor", 0.2, 0.7),
            "reduce_lr_patience": trial.suggest_int("reduce_lr_patience", 1, 4),
        },
        "augment": {
            # no flips: a mirrored digit is another symbol
            "rotation_range": trial.suggest_float("rotation_range", 0.0, 20.0),
            "zoom_range": trial.suggest_float("zoom_range", 0.0, 0.2),
            "width_shift_range": trial.suggest_float("width_shift_range", 0.0, 0.15),
            "height_shift_range": trial.suggest_float("height_shift_range", 0.0, 0.15),
            "shear_range": trial.suggest_float("shear_range", 0.0, 10.0),
        },
    }
