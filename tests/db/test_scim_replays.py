"""Golden replays: the request sequences Microsoft documents for Entra ID's provisioning
(with and without its aadOptscim062020 flag) and Okta's SCIM 2.0 spec tests, written from
their public documentation as test data (tests/fixtures/scim), each step's answer checked,
then the database."""

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from core.history import describe_added
from db.models import Group, ImportChange, ImportJob, User
from tests.conftest import ROOT
from tests.db.conftest import Provider

REPLAYS = ROOT / "tests" / "fixtures" / "scim"


def _filled(value: Any, ids: dict[str, str]) -> Any:
    """The value with {user} and {group} replaced by the ids the service gave."""
    if isinstance(value, str):
        for name, found in ids.items():
            value = value.replace("{" + name + "}", found)
        return value
    if isinstance(value, list):
        return [_filled(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, ids) for k, v in value.items()}
    return value


def _contains(answer: Any, expected: Any) -> bool:
    """Whether the answer has every expected key and value (lists: item by item)."""
    if isinstance(expected, dict):
        return isinstance(answer, dict) and all(
            k in answer and _contains(answer[k], v) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(answer, list)
            and len(answer) == len(expected)
            and all(_contains(a, e) for a, e in zip(answer, expected, strict=True))
        )
    return bool(answer == expected)


def replay(provider: Provider, name: str) -> dict[str, str]:
    """Run every step of a replay; the ids it captured."""
    ids: dict[str, str] = {}
    for step in json.loads((REPLAYS / name).read_text(encoding="utf-8"))["steps"]:
        path = _filled(step["path"], ids)
        answer = provider.call(step["method"], path, _filled(step.get("body"), ids))
        said = f"{step['say']}: {step['method']} {path} -> {answer.status_code} {answer.text}"
        assert answer.status_code == step["status"], said
        if answer.status_code == 204:
            assert answer.content == b"", said
            continue
        body = answer.json()
        assert answer.headers["content-type"].startswith("application/scim+json"), said
        assert _contains(body, _filled(step.get("expect", {}), ids)), said
        assert not set(step.get("absent", [])) & set(body), said
        if step.get("list"):
            assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
        if "capture" in step:
            ids[step["capture"]] = body["id"]
    return ids


@pytest.mark.parametrize("replay_file", ["entra_without_flag.json", "entra_aadOptscim062020.json"])
def test_entra_documented_sequence(entra: Provider, engine: Engine, replay_file: str) -> None:
    ids = replay(entra, replay_file)
    with Session(engine) as session:
        lotte = session.get(User, int(ids["user"]))
        assert lotte is not None
        # The last values Entra sent, the Dutch insert split off, the employee number in
        # the profile field it maps to; blocked, and kept with their history.
        assert (lotte.email, lotte.first_name, lotte.name_insert, lotte.last_name) == (
            "lotte@contoso.nl",
            "Lotte",
            "van",
            "Dijk",
        )
        assert lotte.profile == {"employee_id": "10042"}
        assert lotte.status == "blocked" and lotte.scim_removed_at is not None
        assert session.get(Group, int(ids["group"])) is None
        # Joining and leaving the group are each a change of the user, on the day's record.
        groups = [
            c.after
            for c in session.execute(select(ImportChange).where(ImportChange.user_id == lotte.id))
            .scalars()
            .all()
            if c.after.get("groups_added") == ["Verkoop"] or "groups_removed" in c.after
        ]
        assert groups == [{"groups_added": ["Verkoop"]}, {"groups_removed": ["Verkoop"]}]
        job = session.execute(select(ImportJob)).scalar_one()
        assert job.file_name.startswith("SCIM: Entra ID, ")
        assert (job.counts["created"], job.counts["blocked"]) == (1, 1)
        assert job.catalogue_added == {
            "groups": ["Verkoop Noord"],
            "groups_renamed": ["Verkoop Noord → Verkoop"],
            "groups_removed": ["Verkoop"],
        }
        assert describe_added(job.catalogue_added, {}, "nl") == (
            "Toegevoegd aan de catalogus: 1 groep (Verkoop Noord). Gewijzigd in de catalogus: "
            "1 groep hernoemd (Verkoop Noord → Verkoop) en 1 groep verwijderd (Verkoop)."
        )


def test_okta_spec_tests(entra: Provider, engine: Engine) -> None:
    ids = replay(entra, "okta_spec_tests.json")
    with Session(engine) as session:
        sanne = session.get(User, int(ids["user"]))
        assert sanne is not None
        assert (sanne.email, sanne.name_insert, sanne.last_name, sanne.language) == (
            "sanne.dejong@example.nl",
            "de",
            "Jong",
            "nl",
        )
        # Okta's password is not an attribute Instroom takes from a provider.
        assert sanne.password_hash is None
        assert sanne.status == "blocked" and sanne.scim_removed_at is None
        group = session.get(Group, int(ids["group"]))
        assert group is not None and group.name == "Zorgteam Oost"
