"""An import's options: given as text (CLI, form, stored JSON), kept as the vocabulary's words."""

import json
from dataclasses import asdict

import pytest

from core.options import ImportOptions, OptionsError
from db.vocabulary import EmptyAction, Kind, MatchKey, Mode


def test_text_becomes_the_vocabulary_and_survives_a_json_round_trip() -> None:
    options = ImportOptions(mode="create", match="username", kind="contact", empty_action="none")
    assert (options.mode, options.match, options.kind, options.empty_action) == (
        Mode.CREATE,
        MatchKey.USERNAME,
        Kind.CONTACT,
        EmptyAction.NONE,
    )
    # Members, not bare text that only reads the same.
    assert all(type(v) is not str for v in (options.mode, options.match, options.kind))
    stored = json.loads(json.dumps(asdict(options)))
    assert stored["mode"] == "create" and ImportOptions.from_dict(stored) == options


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("mode", "merge", "The mode must be one of create, update, upsert, not 'merge'."),
        ("match", "phone", "Match on 'email' or 'username', not 'phone'."),
        ("kind", "intern", "The kind must be 'employee' or 'contact', not 'intern'."),
        ("empty_action", "skip", "An empty action means 'block' or 'none', not 'skip'."),
    ],
)
def test_a_word_outside_the_vocabulary_is_refused(field: str, value: str, words: str) -> None:
    with pytest.raises(OptionsError) as refused:
        ImportOptions(**{field: value})
    assert str(refused.value) == words
