"""Typo help is even: competition, params, preset and model names get "did you mean" as config keys do."""

from __future__ import annotations

import pytest

from kit import cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("config", "--comp", "fashon"), "unknown competition 'fashon': did you mean fashion?"),
        (("config", "--comp", "digit-recogniser"), "did you mean digit-recognizer?"),
        (("config", "--params", "bst"), "PARAMS=bst: no such file: did you mean best?"),
        (("config", "--preset", "quik"), "unknown preset 'quik': did you mean quick?"),
        (("config", "--set", "train.model=cnnn"), "unknown model 'cnnn': did you mean cnn?"),
    ],
)
def test_a_near_miss_is_named(capsys, argv, expected):
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1, err


def test_known_competitions_list_no_empty_aliases(capsys):
    assert cli.main(["config", "--comp", "zzz"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "()" not in err
    assert "digit-recognizer (digits)" in err
