"""The search space a competition starts from: the text `make new` writes as
`competitions/<slug>/space.py`, and the space `make tune` uses when a competition has none.

One text serves both, so the file a user edits is exactly what tuning ran without it. The ranges
depend on the model's kind (a network's optimiser and regularisation; for scikit-learn models, the
model itself) and on the image size (larger images, smaller batches).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kit import models
from kit.config import Config

KERAS = '''"""The Optuna search space of {slug}: written by `make new` for {model} on {shape} images; edit freely.

`make tune COMP={slug}` samples it once per trial; every key must exist in kit/config/schema.py
(an unknown one stops the study at once). The model is the configuration's (MODEL= picks another).
"""


def space(trial) -> dict[str, dict]:
    """The network's width and optimiser, regularisation, small shifts, rotations and zooms."""
    shift = trial.suggest_float("shift_range", 0.0, 0.15)
    return {{
        "train": {{
            "width": trial.suggest_categorical("width", [0.5, 1.0, 1.5]),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 5e-3, log=True),
            # {batch_reason}
            "batch_size": trial.suggest_categorical("batch_size", {batches}),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "label_smoothing": trial.suggest_float("label_smoothing", 0.0, 0.1),
        }},
        "augment": {{
            "width_shift_range": shift,
            "height_shift_range": shift,
            "rotation_range": trial.suggest_float("rotation_range", 0.0, 15.0),
            "zoom_range": trial.suggest_float("zoom_range", 0.0, 0.15),
            # no flips: a mirrored digit or letter changes meaning; for photographs add
            # "horizontal_flip": trial.suggest_categorical("horizontal_flip", [True, False]),
        }},
    }}
'''

SKLEARN = '''"""The Optuna search space of {slug}: for the scikit-learn model {model} on {shape} images; edit freely.

`make tune COMP={slug}` samples it once per trial; every key must exist in kit/config/schema.py.
The kit's scikit-learn models have fixed settings, so the choice of model is what is tuned.
"""


def space(trial) -> dict[str, dict]:
    """Which scikit-learn model, and the forest's size (`width` scales its tree count)."""
    return {{
        "train": {{
            "model": trial.suggest_categorical("model", {choices}),
            "width": trial.suggest_categorical("width", [0.5, 1.0, 2.0]),
        }},
    }}
'''

SKLEARN_CHOICES = ("logreg", "random_forest", "svm", "knn")


def space_source(slug: str, model: str, height: int, width: int, channels: int) -> str:
    """The text of a space.py for `model` on images of this size."""
    shape = f"{height}x{width}x{channels}"
    if models.get(model).kind == "sklearn":
        choices = [model] + [name for name in SKLEARN_CHOICES if name != model]
        return SKLEARN.format(slug=slug, model=model, shape=shape, choices=choices)
    large = height * width * channels > 32 * 32 * 3
    batches = [16, 32, 64] if large else [32, 64, 128]
    reason = "smaller batches for larger images: memory" if large else "small images: batches up to 128 fit"
    return KERAS.format(slug=slug, model=model, shape=shape, batches=batches, batch_reason=reason)


def default_space(cfg: Config) -> Callable:
    """The space `make new` would have written for this configuration, as a function."""
    data = cfg.data
    text = space_source(cfg.competition.slug, cfg.train.model, data.height, data.width, data.channels)
    namespace: dict = {}
    exec(compile(text, f"<default search space for {cfg.train.model}>", "exec"), namespace)  # the kit's own text
    space = namespace["space"]
    space.path = Path(__file__)
    return space
