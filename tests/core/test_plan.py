"""The planner on its own: validated rows and stored users in, what the import would do out.

No database: the stored users come from a store in memory, as the planner's UserStore
protocol allows (db.users.StoredUsers reads the same from the database).
"""

from collections.abc import Iterable
from dataclasses import replace

from core.options import ImportOptions
from core.pipeline import resolve_mapping
from core.plan import MASK, Plan, describe_changes, plan_chunks, row_changes
from core.read import read_upload
from core.validate import KnownNames, validate_rows
from db.seed import EVERYONE
from db.users import ExistingUser, Member
from db.vocabulary import Outcome

KNOWN = KnownNames(
    groups={"sales": "Sales", EVERYONE.casefold(): EVERYONE},
    levels={},
    roles={"member": "member"},
    languages={"nl": "nl", "en": "en"},
    profile_fields={},
)
ANN = ExistingUser(
    id=1,
    email="ann@example.org",
    first_name="Ann",
    name_insert="",
    last_name="Smit",
    username="ann",
    role=None,
    language="nl",
    kind="employee",
    status="active",
    is_protected=False,
    password_hash=None,
    profile={},
    activated=True,
    groups={EVERYONE, "Sales"},
)


class Users:
    """Stored users in memory, answering as db.users.StoredUsers does."""

    def __init__(self, *users: ExistingUser) -> None:
        self.users = list(users)

    def by_email(self, emails: Iterable[str]) -> dict[str, ExistingUser]:
        wanted = set(emails)
        return {u.email: u for u in self.users if u.email in wanted}

    def by_username(self, usernames: Iterable[str]) -> dict[str, ExistingUser]:
        wanted = {n.casefold() for n in usernames if n}
        return {u.username.casefold(): u for u in self.users if (u.username or "") in wanted}

    def everyone_group(self) -> str | None:
        return EVERYONE

    def population(self, kind: str) -> list[Member]:
        return [
            Member(u.id, u.email, f"{u.first_name} {u.last_name}", u.status)
            for u in self.users
            if u.kind == kind and not u.is_protected
        ]


def plan(text: str, users: Users, **options: object) -> Plan:
    table = read_upload(text.encode(), "users.csv")
    validated = validate_rows(table, resolve_mapping(table, KNOWN), ImportOptions(**options), KNOWN)
    chunks = plan_chunks(users=users, validated=validated, options=ImportOptions(**options))
    whole = next(chunks)
    for later in chunks:  # the last chunk holds the renames, planned after every other row
        whole.add(later)
    return whole


def outcomes(result: Plan) -> dict[str, str]:
    return {r.email: r.outcome for r in result.rows}


def test_new_changed_and_unchanged_rows() -> None:
    result = plan(
        "Email;Voornaam;Achternaam;Groep\n"
        "new@example.org;Nina;Nieuw;Sales\n"
        "ann@example.org;Ann;Smit-Jansen;Sales\n",
        Users(ANN),
    )
    assert outcomes(result) == {"new@example.org": "create", "ann@example.org": "update"}
    ann = next(r for r in result.rows if r.email == "ann@example.org")
    assert ann.changes == {"last_name": ("Smit", "Smit-Jansen")} and ann.groups_add == ()
    again = plan("Email;Voornaam;Achternaam\nann@example.org;Ann;Smit\n", Users(ANN))
    assert outcomes(again) == {"ann@example.org": Outcome.UNCHANGED}


def test_a_new_users_changes_are_its_values_but_the_empty_ones_and_the_password() -> None:
    text = "Email;Voornaam;Tussenvoegsel;Achternaam;Groep;Wachtwoord\n"
    text += "new@example.org;Nina;;Nieuw;Sales;Lang-genoeg-wachtwoord-42\n"
    row = plan(text, Users()).rows[0]
    assert row_changes(row) == {
        "first_name": ("", "Nina"),
        "last_name": ("", "Nieuw"),
        "kind": ("", "employee"),
        "status": ("", "invited"),
        "password": ("", MASK),
    }
    assert describe_changes(row, {"first_name": "Voornaam"}) == (
        "Voornaam: empty → Nina; last_name: empty → Nieuw; kind: empty → employee; "
        "status: empty → invited; password: empty → ********; groups +Sales"
    )


def test_fill_missing_keeps_what_is_stored() -> None:
    text = "Email;Voornaam;Achternaam\nann@example.org;Anna;Smit\n"
    assert outcomes(plan(text, Users(ANN), fill_missing=True)) == {"ann@example.org": "unchanged"}
    assert outcomes(plan(text, Users(ANN))) == {"ann@example.org": "update"}


def test_an_empty_cell_clears_only_when_the_import_says_so_and_never_a_name() -> None:
    text = "Email;Voornaam;Achternaam;Taal\nann@example.org;;Smit;\n"
    assert outcomes(plan(text, Users(ANN))) == {"ann@example.org": "unchanged"}
    cleared = plan(text, Users(ANN), clear_empty=True).rows[0]
    # The language is cleared; the empty first name is not (a name is never cleared).
    assert cleared.changes == {"language": ("nl", "")}
    assert cleared.values == {"language": ""}
    # A field the file does not have is left as it is.
    assert plan("Email\nann@example.org\n", Users(ANN), clear_empty=True).rows[0].changes == {}


def test_a_protected_user_is_skipped_with_its_issue() -> None:
    protected = replace(ANN, is_protected=True)
    result = plan("Email;Achternaam\nann@example.org;Anders\n", Users(protected))
    assert outcomes(result) == {"ann@example.org": Outcome.SKIP}
    assert [i.code for i in result.issues] == ["protected-user"]


def test_create_only_and_update_only_skip_what_they_may_not_touch() -> None:
    text = "Email;Voornaam;Achternaam\nann@example.org;Ann;Anders\nnew@example.org;N;N\n"
    created = plan(text, Users(ANN), mode="create")
    assert outcomes(created) == {"ann@example.org": "skip", "new@example.org": "create"}
    updated = plan(text, Users(ANN), mode="update")
    assert outcomes(updated) == {"ann@example.org": "update", "new@example.org": "skip"}
    assert {i.code for i in created.issues} == {"already-exists"}
    assert {i.code for i in updated.issues} == {"not-found"}


def test_a_block_action_leaves_only_the_group_everyone_is_in() -> None:
    result = plan("Email;Actie\nann@example.org;block\n", Users(ANN))
    ann = result.rows[0]
    assert ann.outcome == Outcome.BLOCK and ann.groups_remove == ("Sales",)
    assert ann.changes["status"] == ("active", "blocked")


def test_a_full_list_blocks_whoever_it_leaves_out_within_its_limit() -> None:
    bob = replace(ANN, id=2, email="bob@example.org", username="bob")
    gone = replace(ANN, id=3, email="gone@example.org", username="gone", first_name="Gea")
    users = Users(ANN, bob, gone)
    text = "Email;Voornaam;Achternaam\nann@example.org;Ann;Smit\nbob@example.org;Ann;Smit\n"
    result = plan(text, users, full_list=True)
    assert [(d.email, d.name) for d in result.deactivate] == [("gone@example.org", "Gea Smit")]
    assert result.refusal is None
    refused = plan(text, users, full_list=True, max_deactivate="0")
    assert refused.refusal is not None and refused.refusal.code == "too-many-deactivations"


def test_a_new_address_for_a_user_found_by_username() -> None:
    bob = replace(ANN, id=2, email="bob@example.org", username="bob")
    users = Users(ANN, bob)
    moved = plan("Email;Gebruikersnaam\nann.smit@example.org;ann\n", users, match="username")
    assert moved.rows[0].changes["email"] == ("ann@example.org", "ann.smit@example.org")
    # Bob cannot take Ann's address.
    taken = plan("Email;Gebruikersnaam\nann@example.org;bob\n", users, match="username")
    assert taken.rows[0].outcome == Outcome.ERROR
    assert [i.code for i in taken.issues] == ["email-taken"]
