"""Configuration: override order, presets, aliases and every kind of bad key or value."""

import re
import typing

import pytest

from kit import config
from kit.cli import main
from kit.config import competitions
from kit.errors import KitError


def test_override_order_defaults_toml_preset_params_set():
    cfg = competitions.load_config("digits")
    assert cfg.train.min_lr == config.TrainSection().min_lr  # default
    assert cfg.train.epochs == 20  # competition.toml
    cfg = competitions.load_config("digits", preset="quick")
    assert cfg.train.epochs == 6  # preset beats toml
    cfg = competitions.load_config("digits", preset="quick", params={"train": {"epochs": 9}})
    assert cfg.train.epochs == 9  # tuned params beat the preset
    cfg = competitions.load_config("digits", "quick", ["train.epochs=3"], params={"train": {"epochs": 9}})
    assert cfg.train.epochs == 3  # --set beats everything


def test_aliases_resolve_and_unknown_competition_lists_known():
    assert competitions.resolve_name("fashion") == "fashion-mnist"
    assert competitions.load_config("digits").competition.slug == "digit-recognizer"
    with pytest.raises(KitError, match=r"unknown competition 'mnist' \(known: digit-recognizer \(digits\)"):
        competitions.resolve_name("mnist")


def test_unknown_preset_lists_known():
    with pytest.raises(KitError, match=r"unknown preset 'huge' \(known: quick, classic, tiny, best"):
        competitions.load_config("digits", preset="huge")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("epoch=3", "unknown config key 'epoch': did you mean train.epochs?"),
        ("train.epoch=3", "unknown config key 'train.epoch': did you mean train.epochs? (known: model,"),
        ("train.learning_rat=0.1", "unknown config key 'train.learning_rat': did you mean train.learning_rate?"),
        ("train.zzz=1", "unknown config key 'train.zzz' (known: model,"),
        ("trian.epochs=3", "unknown config section 'trian' in 'trian.epochs': did you mean train?"),
        ("train.epochs=three", "config key 'train.epochs' must be int, got 'three'"),
        ("train.epochs=2.5", "config key 'train.epochs' must be int, got 2.5"),
        ("horizontal_flip=1", "config key 'augment.horizontal_flip' must be true or false, got 1"),
        ("seed=1", "config key 'seed' is ambiguous: write one of data.seed, train.seed"),
        ("epochs", "override 'epochs' must look like key=value"),
    ],
)
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(KitError, match=re.escape(message)):
        competitions.load_config("digits", overrides=[override])


def test_bad_toml_key_names_file_and_key(tmp_path, monkeypatch):
    comp = tmp_path / "broken"
    comp.mkdir()
    (comp / "competition.toml").write_text("[train]\nepochz = 3\n")
    monkeypatch.setattr(competitions.paths, "COMPETITIONS", tmp_path)
    with pytest.raises(KitError, match=r"unknown config key 'train\.epochz'"):
        competitions.load_config("broken")


def test_int_widens_to_float_and_lists_become_tuples():
    cfg = config.resolve({"train": {"learning_rate": 1}, "competition": {"class_names": ["a", "b"]}})
    assert cfg.train.learning_rate == 1.0 and isinstance(cfg.train.learning_rate, float)
    assert cfg.competition.class_names == ("a", "b") and cfg.num_classes == 2


def test_a_bare_comma_list_on_the_command_line_is_several_items():
    cfg = config.resolve(overrides=["competition.class_names=cat, dog,bird"])
    assert cfg.competition.class_names == ("cat", "dog", "bird")
    kept = config.resolve(overrides=["competition.class_names=['a,b', 'c']"])  # a TOML list keeps its commas
    assert kept.competition.class_names == ("a,b", "c")
    single = config.resolve(overrides=["compare.models=cnn"])
    assert single.compare.models == ("cnn",)


def test_saved_config_round_trips(tmp_path):
    cfg = competitions.load_config("fashion", preset="tiny", overrides=["train.dropout=0.1"])
    config.save(cfg, tmp_path / "config.json")
    assert config.load_saved(tmp_path / "config.json") == cfg


def literal_keys() -> list[tuple[str, str, tuple]]:
    """(section, key, allowed values) of every key typed Literal in the schema."""
    found = []
    for section, kind in config.SECTIONS.items():
        for key, hint in typing.get_type_hints(kind).items():
            if typing.get_origin(hint) is typing.Literal:
                found.append((section, key, typing.get_args(hint)))
    return found


def test_the_schema_has_literal_keys():
    keys = {f"{section}.{key}" for section, key, _ in literal_keys()}
    assert {"train.jit_compile", "train.mixed_precision", "competition.metric", "data.format"} <= keys


@pytest.mark.parametrize(("section", "key", "allowed"), literal_keys())
def test_every_literal_key_refuses_a_value_outside_its_choices(section, key, allowed):
    with pytest.raises(KitError) as caught:
        config.resolve(overrides=[f"{section}.{key}=maybe"])
    pattern = config.schema.PATTERNS.get(f"{section}.{key}")  # map@K: one metric per K
    shown = [*allowed, *([pattern[1]] if pattern else [])]
    assert str(caught.value) == f"config key '{section}.{key}' must be one of {', '.join(shown)}, got 'maybe'"
    for value in allowed:  # and accepts every one of them
        assert getattr(getattr(config.resolve(overrides=[f"{section}.{key}={value}"]), section), key) == value


def test_a_wrong_value_stops_the_cli_before_any_data_is_read(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    code = main(["train", "--comp", "digits", "--data", str(missing), "--set", "train.jit_compile=maybe"])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: config key 'train.jit_compile' must be one of auto, on, off, got 'maybe'\n"
    )
