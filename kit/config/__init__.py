"""The configuration: the schema (frozen dataclasses), its layers, and where they come from.

    schema.py        every section and key, with its default and why; allowed values as Literal
    layers.py        resolve(): defaults < competition.toml < preset < tuned params < SET
    competitions.py  finds competitions/<slug>/, their presets and plugins; load_config()
    params.py        tuned parameters (best_params.toml) as a layer

`from kit import config` gives the whole public surface: `config.Config`, `config.resolve`, ...
"""

from kit.config.layers import (
    SECTIONS,
    coerce,
    load_saved,
    parse_override,
    public_dict,
    read_toml,
    replace,
    resolve,
    save,
    to_dict,
)
from kit.config.schema import (
    AugmentSection,
    CompareSection,
    CompetitionSection,
    Config,
    DataSection,
    PredictSection,
    SubmissionSection,
    TrainSection,
    TuneSection,
)

__all__ = [
    "SECTIONS",
    "AugmentSection",
    "CompareSection",
    "CompetitionSection",
    "Config",
    "DataSection",
    "PredictSection",
    "SubmissionSection",
    "TrainSection",
    "TuneSection",
    "coerce",
    "load_saved",
    "parse_override",
    "public_dict",
    "read_toml",
    "replace",
    "resolve",
    "save",
    "to_dict",
]
