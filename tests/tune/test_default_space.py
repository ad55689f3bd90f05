"""The search space a competition starts from: written by `make new`, used by `make tune` without one."""

from __future__ import annotations

import optuna
import pytest
import replicas
from conftest import run_kit

import kit.tune.space
from kit import config, models
from kit.tune.default_space import default_space, space_source


def draws(cfg, space, count: int = 30):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    return [config.replace(cfg, **kit.tune.space.sample_sections(space, study.ask())) for _ in range(count)]


@pytest.mark.parametrize(("model", "shape"), [("cnn", (28, 28, 1)), ("colour_cnn", (64, 64, 3)), ("svm", (28, 28, 1))])
def test_default_space_samples_valid_configs_for_each_kind(model, shape):
    height, width, channels = shape
    cfg = config.resolve({"train": {"model": model}, "data": {"height": height, "width": width, "channels": channels}})
    space = default_space(cfg)
    kit.tune.space.check_space(space, cfg)
    sampled = draws(cfg, space)
    assert all(s.train.model in models.names() for s in sampled)
    if models.get(model).kind == "keras":
        assert {s.train.model for s in sampled} == {model}  # the configuration's network is kept
        assert len({s.train.learning_rate for s in sampled}) > 1
        batches = {s.train.batch_size for s in sampled}
        assert max(batches) <= (64 if height * width * channels > 32 * 32 * 3 else 128)
    else:  # scikit-learn models have fixed settings: the model is what varies
        assert len({s.train.model for s in sampled}) > 1


def test_written_text_is_the_default_space():
    text = space_source("x", "cnn", 28, 28, 1)
    namespace: dict = {}
    exec(text, namespace)
    cfg = config.resolve({"train": {"model": "cnn"}})
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3)).ask()
    expected = default_space(cfg)(trial)
    assert namespace["space"](optuna.trial.FixedTrial(trial.params)) == expected
    assert "make tune COMP=x" in text and "28x28x1" in text


def test_a_competition_without_space_py_tunes_the_default(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(kit.tune.space, "space_path", lambda cfg: tmp_path / "space.py")
    cfg = config.resolve({"competition": {"slug": "x"}, "train": {"model": "cnn"}})
    space = kit.tune.space.load_space(cfg)
    assert "default space for cnn" in capsys.readouterr().out
    assert draws(cfg, space, 3)


@pytest.mark.slow
def test_tune_works_on_a_competition_make_new_made(tmp_path, monkeypatch):
    competitions = tmp_path / "competitions"
    competitions.mkdir()
    monkeypatch.setenv("KIT_COMPETITIONS", str(competitions))
    folder = tmp_path / "files"
    replicas.aerial_cactus(folder, per_class=12, test_per_class=4, size=16)
    made = run_kit("new", "--comp", "cactus", "--data", str(folder))
    assert made.returncode == 0, made.stderr
    assert (competitions / "cactus" / "space.py").exists()
    tiny = ("--set", "train.epochs=1", "train.batch_size=8", "--n-trials", "2")
    tuned = run_kit("tune", "--comp", "cactus", *tiny)
    assert tuned.returncode == 0, tuned.stdout[-2000:] + tuned.stderr[-2000:]
    assert "best: trial" in tuned.stdout
    (competitions / "cactus" / "space.py").unlink()  # README: the file is optional
    again = run_kit("tune", "--comp", "cactus", *tiny)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "default space for colour_cnn" in again.stdout
