"""The SCIM 2.0 service (RFC 7643/7644) at /scim/v2: scim2-server speaks the protocol, this
module stores its resources through core.scim and answers who may call."""

import asyncio
import contextvars
import hashlib
import json
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    External,
    Filter,
    InvalidFilterException,
    InvalidValueException,
    MutabilityException,
    NotFoundException,
    Patch,
    Reference,
    Resource,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
    ScimPolicy,
    ScimProvider,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    UniquenessException,
)
from scim2_models.path.expressions import Comparison, LogicalExpr, ValuePath
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from scim2_server.storage import AsyncScimStorage, SearchPage
from scim2_server.utils import load_default_resource_types, load_default_schemas
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.routing import Mount

from core import scim
from core.config import Settings
from core.issues import Issue, issue
from core.saved_settings import effective_settings
from core.validate import split_insert
from core.worker import ensure_background_worker
from db import scim as queries
from db.engine import get_engine, session_scope
from db.models import Group, ScimConnection, User, id_of
from db.queries import list_languages
from db.vocabulary import UserStatus

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# What Instroom keeps of a user and a group; the rest of RFC 7643's schemas is not announced,
# so a provider (and a conformance checker) sends only what is stored and read back.
USER_ATTRIBUTES: dict[str, set[str] | None] = {
    "userName": None,
    "name": {"familyName", "givenName", "middleName"},
    "title": None,
    "preferredLanguage": None,
    "active": None,
    "emails": {"value", "type", "primary"},
    "groups": None,
}
ENTERPRISE_ATTRIBUTES: dict[str, set[str] | None] = {
    "employeeNumber": None,
    "department": None,
    "organization": None,
    "manager": {"value", "displayName"},
}
# Providers show the detail of a refusal to the organisation's IT staff: in Dutch.
LANGUAGE = "nl"


@dataclass(frozen=True)
class Limits:
    """What one call may ask, checked before its body is parsed."""

    body_bytes: int = 4 * 1024 * 1024
    operations: int = 1000
    filter_length: int = 1000
    filter_depth: int = 5
    count: int = 1000
    # A user list without an indexed filter is read in full up to this many users.
    scan_users: int = 20_000
    wait_seconds: float = 10.0
    wrong_tokens: int = 20
    wrong_token_window: float = 300.0


LIMITS = Limits()
_CALLER: contextvars.ContextVar[ScimConnection] = contextvars.ContextVar("scim_caller")
# The members a request read before its PATCH or PUT: the change is what it adds and removes
# relative to them, so two providers' calls adding members at once lose none.
_MEMBERS_READ: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar(
    "scim_members_read", default=None
)


# What a new user needs in Instroom, announced so that a provider sends it. A user is
# active or blocked, never neither: `active` cannot be removed.
REQUIRED = {"name", "emails", "name.givenName", "name.familyName", "emails.value", "active"}


def _pruned(schema: Schema, keep: dict[str, set[str] | None], languages: list[str]) -> Schema:
    data = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    attributes = []
    for attribute in data["attributes"]:
        name = attribute["name"]
        if name not in keep:
            continue
        sub = keep[name]
        if sub is not None:
            attribute["subAttributes"] = [
                s for s in attribute.get("subAttributes", []) if s["name"] in sub
            ]
        for sub_attribute in attribute.get("subAttributes", []):
            if f"{name}.{sub_attribute['name']}" in REQUIRED:
                sub_attribute["required"] = True
        if name in REQUIRED:
            attribute["required"] = True
        if name == "preferredLanguage" and languages:
            attribute["canonicalValues"] = languages
        attributes.append(attribute)
    data["attributes"] = attributes
    return Schema.model_validate(data)


def build_provider(limits: Limits = LIMITS, languages: list[str] | None = None) -> ScimProvider:
    """The service as /ServiceProviderConfig, /Schemas and /ResourceTypes describe it."""
    schemas = load_default_schemas()
    kept: dict[str, dict[str, set[str] | None]] = {
        "urn:ietf:params:scim:schemas:core:2.0:User": USER_ATTRIBUTES,
        ENTERPRISE: ENTERPRISE_ATTRIBUTES,
        "urn:ietf:params:scim:schemas:core:2.0:Group": {
            "displayName": None,
            "members": {"value", "$ref", "type"},
        },
    }
    published = [
        _pruned(schema, kept[key], languages or []) if key in kept else schema
        for key, schema in schemas.items()
    ]
    config = ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=limits.count),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="The token Instroom shows once when a connection is made.",
                spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750"),
                primary=True,
            )
        ],
    )
    # The providers' known deviations: Entra's remove-by-value and its filters on members
    # that are not there yet; attributes Instroom does not keep are ignored, not refused.
    policy = ScimPolicy(
        unknown=ScimPolicy.Unknown.ignore,
        remove_value_as_filter=ScimPolicy.RemoveValue.apply,
        unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
    )
    return ScimProvider.from_discovery(
        published, load_default_resource_types().values(), config=config, policy=policy
    )


# -- Between SCIM resources and Instroom's records ----------------------------------------


def _version(*parts: Any) -> str:
    return 'W/"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:16] + '"'


def user_payload(user: User, groups: list[Group], connection: ScimConnection) -> dict[str, Any]:
    """A stored user as a SCIM User, in the provider's JSON."""
    words = user.scim_words or {}
    # A provider that sends no middle name reads the insert back in the family name, as it
    # wrote it ("de Vries"), so that its next change does not add the insert twice.
    if words.get("middle_name"):
        family = user.last_name
        middle = user.name_insert
    else:
        family = " ".join(p for p in (user.name_insert, user.last_name) if p)
        middle = None
    name = {"givenName": user.first_name or None, "middleName": middle, "familyName": family}
    profile = user.profile or {}
    payload: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": str(user.id),
        "externalId": user.external_id,
        "userName": user.scim_user_name
        or ((user.username or user.email) if connection.match_username else user.email),
        "name": {k: v for k, v in name.items() if v},
        "emails": [
            {
                "value": user.email,
                "type": words.get("email_type") or "work",
                "primary": words.get("email_primary", True),
            }
        ],
        "active": user.status != UserStatus.BLOCKED,
        "preferredLanguage": user.language or None,
        "groups": [
            {"value": str(g.id), "$ref": f"Groups/{g.id}", "display": g.name} for g in groups
        ],
        "meta": {
            "resourceType": "User",
            "created": user.created_at.isoformat(),
            "lastModified": user.updated_at.isoformat(),
            "version": _version(user.updated_at, user.status, [g.id for g in groups]),
        },
    }
    enterprise: dict[str, Any] = {}
    for attribute, key in connection.profile_map.items():
        value = profile.get(key)
        if not value:
            continue
        if attribute == "title":
            payload["title"] = value
        elif attribute == "manager":
            enterprise["manager"] = {"value": value}
        else:
            enterprise[attribute] = value
    if enterprise:
        payload["schemas"].append(ENTERPRISE)
        payload[ENTERPRISE] = enterprise
    return {k: v for k, v in payload.items() if v not in (None, {}, [])} | {
        "active": payload["active"]
    }


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def person_of(data: dict[str, Any], connection: ScimConnection) -> scim.Person:
    """A provider's User (its JSON) as Instroom's values."""
    emails = data.get("emails") or []
    chosen = (
        next((e for e in emails if e.get("primary")), None)
        or next((e for e in emails if e.get("type") == "work"), None)
        or (emails[0] if emails else {})
    )
    user_name = _text(data.get("userName"))
    email = _text(chosen.get("value")) or ("" if connection.match_username else user_name)
    name = data.get("name") or {}
    enterprise = data.get(ENTERPRISE) or {}
    profile: dict[str, str] = {}
    sent = {"title": data.get("title")} | {k: enterprise.get(k) for k in ENTERPRISE_ATTRIBUTES}
    unkept = tuple(a for a, v in sent.items() if v and a not in connection.profile_map)
    for attribute, key in connection.profile_map.items():
        if attribute == "title":
            value = data.get("title")
        elif attribute == "manager":
            manager = enterprise.get("manager") or {}
            value = manager.get("displayName") or manager.get("value")
        else:
            value = enterprise.get(attribute)
        profile[key] = _text(value)
    language = _text(data.get("preferredLanguage"))
    middle = name.get("middleName")
    family = _text(name.get("familyName"))
    # Without a middle name the insert is split from the family name, as in Plek's files
    # ("de Vries"); an insert stored before goes when the new name has none.
    insert, last = (_text(middle), family) if middle is not None else split_insert(family)
    active = data.get("active")
    return scim.Person(
        email=email.lower(),
        username=user_name if connection.match_username else "",
        first_name=_text(name.get("givenName")),
        name_insert=insert,
        last_name=last,
        # "nl-NL" and "nl_NL" are the language nl, as the catalogue names languages.
        language=language.replace("_", "-").split("-")[0].lower() if language else "",
        active=None if active is None else bool(active),
        provider_keys={
            "external_id": data.get("externalId"),
            "scim_user_name": user_name or None,
            "scim_words": {
                "email_type": chosen.get("type"),
                "email_primary": chosen.get("primary", True),
                "middle_name": middle is not None,
            },
        },
        profile=profile,
        unkept=unkept,
    )


def _refused(refusal: Issue, language: str) -> Exception:
    detail = refusal.text(language)
    if refusal.code in scim.UNIQUENESS_CODES or refusal.variant == "group-taken":
        return UniquenessException(detail=detail)
    if refusal.code in scim.MUTABILITY_CODES or refusal.variant in {
        "deactivate",
        "not-own-group",
        "everyone-group",
        "protected-member",
    }:
        return MutabilityException(detail=detail)
    if refusal.variant == "unknown-user":
        return NotFoundException(detail=detail)
    return InvalidValueException(detail=detail)


class Busy(Exception):
    """An import holds the users; the provider is asked to come back."""


# -- The storage scim2-server calls ---------------------------------------------------------


def _indexed(node: Any, for_groups: bool) -> list[tuple[str, str]] | None:
    """(attribute, value) lookups that find every resource the filter can match, or None
    when the filter has none (it is then evaluated on every resource)."""
    if isinstance(node, Comparison) and node.op.value == "eq" and isinstance(node.value, str):
        attr = node.attr_path.attr.lower()
        sub = (node.attr_path.sub_attr or "").lower()
        keys = (
            {"displayname": "name", "externalid": "external_id", "id": "id"}
            if for_groups
            else {"username": "user_name", "externalid": "external_id", "id": "id"}
        )
        key = keys.get(attr)
        if not for_groups and attr == "emails" and sub in {"", "value"}:
            key = "email"
        return [(key, node.value)] if key else None
    if isinstance(node, ValuePath) and node.attr_path.attr.lower() == "emails":
        inner = node.val_filter
        terms = (
            inner.terms if isinstance(inner, LogicalExpr) and inner.op.value == "and" else (inner,)
        )
        for term in terms:
            if (
                isinstance(term, Comparison)
                and term.attr_path.attr.lower() == "value"
                and term.op.value == "eq"
            ):
                return [("email", str(term.value))]
        return None
    if isinstance(node, LogicalExpr) and node.op.value == "and":
        for term in node.terms:
            narrowed = _indexed(term, for_groups)
            if narrowed is not None:
                return narrowed
        return None
    if isinstance(node, LogicalExpr) and node.op.value == "or":
        lookups: list[tuple[str, str]] = []
        for term in node.terms:
            each = _indexed(term, for_groups)
            if each is None:
                return None
            lookups += each
        return lookups
    return None


class InstroomStorage(AsyncScimStorage):
    """Users and groups in Instroom's database; every write goes through core.scim."""

    def __init__(self, settings: Settings, provider: ScimProvider, limits: Limits) -> None:
        self.settings, self.provider, self.limits = settings, provider, limits

    @property
    def engine(self) -> Engine:
        return get_engine(self.settings.database_url)

    def _model(self, resource_type: ResourceType) -> type[Resource[Any]]:
        return self.provider.model_for(resource_type)  # type: ignore[return-value]

    async def _run(self, work: Callable[[], Any]) -> Any:
        return await asyncio.to_thread(contextvars.copy_context().run, work)

    # Reads

    def _users(self, session: Session, ids: list[int], model: type[Resource[Any]]) -> list[Any]:
        connection = _CALLER.get()
        users = queries.get_users(session=session, user_ids=ids)
        groups = queries.list_group_names_of(session=session, user_ids=[id_of(u) for u in users])
        return [model.model_validate(user_payload(u, groups[id_of(u)], connection)) for u in users]

    def _groups(
        self, session: Session, ids: list[int], model: type[Resource[Any]], members: bool
    ) -> list[Any]:
        found = []
        for group_id in ids:
            group = queries.get_group(session=session, group_id=group_id)
            if group is None:
                continue
            member_ids = queries.list_member_ids(session=session, group_id=group_id, seen_only=True)
            payload: dict[str, Any] = {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "id": str(group.id),
                "displayName": group.name,
                "externalId": group.external_id,
                "meta": {
                    "resourceType": "Group",
                    "created": group.created_at.isoformat(),
                    "lastModified": group.created_at.isoformat(),
                    "version": _version(group.name, member_ids),
                },
            }
            if members and member_ids:
                payload["members"] = [
                    {"value": str(i), "$ref": f"Users/{i}", "type": "User"} for i in member_ids
                ]
            found.append(model.model_validate({k: v for k, v in payload.items() if v is not None}))
        return found

    def _visible_group(self, session: Session, group_id: str) -> Group:
        connection = _CALLER.get()
        group = (
            queries.get_group(session=session, group_id=int(group_id))
            if queries.is_id(group_id)
            else None
        )
        if group is None or not scim.may_see_group(connection, group):
            raise NotFoundException(detail=f"Group {group_id}")
        return group

    async def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        model = self._model(resource_type)
        members = not _excludes_members(response_parameters)

        def read() -> Resource[Any]:
            with Session(self.engine) as session:
                if resource_type.name == "User":
                    found = (
                        self._users(session, [int(resource_id)], model)
                        if queries.is_id(resource_id)
                        else []
                    )
                else:
                    group = self._visible_group(session, resource_id)
                    found = self._groups(session, [id_of(group)], model, members)
                if not found:
                    raise NotFoundException(detail=f"{resource_type.name} {resource_id}")
                first: Resource[Any] = found[0]
                return first

        found = await self._run(read)
        if resource_type.name == "Group":
            _MEMBERS_READ.set({int(m.value) for m in getattr(found, "members", None) or []})
        return found  # type: ignore[no-any-return]

    async def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        start = max((search_request.start_index or 1) - 1, 0)
        count = search_request.count if search_request.count is not None else self.limits.count

        def read() -> SearchPage:
            # At the root (/.search) users and then groups are one collection, paged as one.
            total, resources = 0, list[Any]()
            with Session(self.engine) as session:
                for resource_type in resource_types:
                    page = self._page(
                        session,
                        resource_type,
                        search_request,
                        max(start - total, 0),
                        count - len(resources),
                    )
                    total += page.total or 0
                    resources += page.resources
            return SearchPage(total, resources)

        return await self._run(read)  # type: ignore[no-any-return]

    def _page(
        self,
        session: Session,
        resource_type: ResourceType,
        search_request: SearchRequest[Any],
        start: int,
        count: int,
    ) -> SearchPage:
        """One resource type's matches from start on, at most count of them, and their number."""
        model = self._model(resource_type)
        is_group = resource_type.name == "Group"
        members = not _excludes_members(search_request)
        connection = _CALLER.get()
        owner = connection.id if is_group and connection.own_groups_only else None
        scim_filter = search_request.filter
        if scim_filter is None:
            if is_group:
                total = queries.count_groups(session=session, owner=owner)
                ids = queries.list_group_ids(
                    session=session, offset=start, limit=count, owner=owner
                )
                return SearchPage(total, self._groups(session, ids, model, members))
            total = queries.count_users(session=session)
            ids = queries.list_user_ids(session=session, offset=start, limit=count)
            return SearchPage(total, self._users(session, ids, model))
        candidates = self._candidates(session, scim_filter.ast, is_group, owner)
        matching = []
        for batch_start in range(0, len(candidates), 500):
            batch = candidates[batch_start : batch_start + 500]
            loaded = (
                self._groups(session, batch, model, True)
                if is_group
                else self._users(session, batch, model)
            )
            matching += [resource for resource in loaded if scim_filter.match(resource)]
        page = matching[start : start + count]
        if is_group and not members:
            for resource in page:
                resource.members = None
        return SearchPage(len(matching), page)

    def _candidates(
        self, session: Session, node: Any, is_group: bool, owner: int | None
    ) -> list[int]:
        lookups = _indexed(node, is_group)
        if lookups is None:
            total = (
                queries.count_groups(session=session, owner=owner)
                if is_group
                else queries.count_users(session=session)
            )
            if total > self.limits.scan_users:
                refusal = issue("scim-refused", "filter-unindexed", limit=self.limits.scan_users)
                raise InvalidFilterException(detail=refusal.text(LANGUAGE))
            if is_group:
                return queries.list_group_ids(session=session, offset=0, limit=total, owner=owner)
            return queries.list_user_ids(session=session, offset=0, limit=total)
        connection = _CALLER.get()
        ids: set[int] = set()
        for attribute, value in lookups:
            if is_group:
                ids.update(
                    queries.find_group_ids(
                        session=session, attribute=attribute, value=value, owner=owner
                    )
                )
                continue
            if attribute == "user_name":
                # Users a file created have no provider's name yet: found by their key.
                fallback = "username" if connection.match_username else "email"
                ids.update(
                    queries.find_user_ids(session=session, attribute=fallback, value=value.lower())
                )
            if attribute == "email":
                value = value.lower()
            ids.update(queries.find_user_ids(session=session, attribute=attribute, value=value))
        return sorted(ids)

    # Writes

    def _write(self, work: Callable[[Session, Any], scim.Written]) -> int:
        """Run one write in its own transaction after any import; raise its refusal after
        the refusal is recorded."""
        connection = _CALLER.get()
        time_zone = effective_settings(self.engine, self.settings).time_zone
        try:
            with queries.scim_write(self.engine, wait_seconds=self.limits.wait_seconds) as session:
                stored = queries.get_connection(session=session, connection_id=id_of(connection))
                job = scim.day_job(
                    session=session, connection=stored, time_zone=time_zone, language=LANGUAGE
                )
                written = work(session, (stored, job))
        except queries.ImportsBusy as exc:
            raise Busy from exc
        # A welcome mail a call queued is sent by this process's sender, also when it serves
        # only /scim (cli.py scim serve) or no one has opened the portal since it started.
        ensure_background_worker(engine=self.engine, settings=self.settings)
        if written.refusal is not None:
            raise _refused(written.refusal, LANGUAGE)
        assert written.resource_id is not None
        return written.resource_id

    async def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        data = _json(resource)
        connection = _CALLER.get()
        if resource_type.name == "User":
            person = person_of(data, connection)

            def work(session: Session, context: Any) -> scim.Written:
                stored, job = context
                return scim.write_person(
                    session=session, connection=stored, job=job, person=person, user_id=None
                )
        else:
            members = _member_ids(data)

            def work(session: Session, context: Any) -> scim.Written:
                stored, job = context
                return scim.create_group(
                    session=session,
                    connection=stored,
                    job=job,
                    name=_text(data.get("displayName")),
                    external_id=data.get("externalId"),
                    member_ids=members,
                )

        resource_id = await self._run(lambda: self._write(work))
        return await self.get(resource_type, str(resource_id))

    async def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        data = _json(resource)
        connection = _CALLER.get()
        resource_id = str(resource.id)
        if resource_type.name == "User":
            if not queries.is_id(resource_id):
                raise NotFoundException(detail=f"User {resource_id}")
            person = person_of(data, connection)

            def work(session: Session, context: Any) -> scim.Written:
                stored, job = context
                return scim.write_person(
                    session=session,
                    connection=stored,
                    job=job,
                    person=person,
                    user_id=int(resource_id),
                )
        else:
            members = set(_member_ids(data))
            read = _MEMBERS_READ.get()

            def work(session: Session, context: Any) -> scim.Written:
                stored, job = context
                group = self._visible_group(session, resource_id)
                current = read
                if current is None:
                    current = set(
                        queries.list_member_ids(
                            session=session, group_id=id_of(group), seen_only=True
                        )
                    )
                renamed = scim.rename_group(
                    session=session,
                    connection=stored,
                    job=job,
                    group=group,
                    name=_text(data.get("displayName")) or group.name,
                )
                if renamed.refusal is not None:
                    return renamed
                group.external_id = data.get("externalId")
                if members == current:
                    return scim.Written(id_of(group))
                return scim.change_members(
                    session=session,
                    connection=stored,
                    job=job,
                    group=group,
                    add=members - current,
                    remove=current - members,
                )

        await self._run(lambda: self._write(work))
        return await self.get(resource_type, resource_id)

    async def delete(
        self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None
    ) -> None:
        if resource_type.name == "User":
            if not queries.is_id(resource_id):
                raise NotFoundException(detail=f"User {resource_id}")

            def work(session: Session, context: Any) -> scim.Written:
                stored, job = context
                remove = scim.delete_person if stored.may_delete else scim.block_person
                return remove(session=session, connection=stored, job=job, user_id=int(resource_id))
        else:

            def work(session: Session, context: Any) -> scim.Written:
                stored, job = context
                group = self._visible_group(session, resource_id)
                return scim.remove_group(session=session, connection=stored, job=job, group=group)

        await self._run(lambda: self._write(work))


def _json(resource: Resource[Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resource.model_dump_json(by_alias=True, exclude_none=True))
    return data


def _member_ids(data: dict[str, Any]) -> list[int]:
    ids = []
    for member in data.get("members") or []:
        value = str(member.get("value", ""))
        if not queries.is_id(value):
            raise InvalidValueException(detail=f"members: {value!r}")
        ids.append(int(value))
    return ids


def _excludes_members(parameters: Any) -> bool:
    excluded = getattr(parameters, "excluded_attributes", None) or []
    return any(str(path).lower().endswith("members") for path in excluded)


# -- The application: who may call, and how much ------------------------------------------


class _Attempts:
    """Wrong tokens per client address in a sliding window (in this process)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, address: str) -> bool:
        times = self.seen[address]
        now = time.monotonic()
        while times and now - times[0] > self.window:
            times.popleft()
        return len(times) >= self.limit

    def failed(self, address: str) -> None:
        self.seen[address].append(time.monotonic())


def _without_null_items(value: Any) -> Any:
    """The value with the unassigned (null) sub-attributes of multi-valued items left out."""
    if isinstance(value, list):
        return [
            {k: _without_null_items(v) for k, v in item.items() if v is not None}
            if isinstance(item, dict)
            else item
            for item in value
        ]
    if isinstance(value, dict):
        return {k: _without_null_items(v) for k, v in value.items()}
    return value


class _Service(ScimService):
    """scim2-server's protocol, answering a user's PATCH with the user (Entra ID reads it)."""

    def read_body(self, model: Any, body: bytes, content_type: str | None, scim_ctx: Any) -> Any:
        try:
            data = json.loads(body)
        except ValueError:
            data = None  # scim2-server answers what is wrong with it
        if isinstance(data, dict):
            # Okta sends the language as locale ("nl-NL"), an attribute Instroom does not keep.
            if data.get("locale") and not data.get("preferredLanguage"):
                data["preferredLanguage"] = data["locale"]
            # Entra removes {"$ref": null, "value": id}: null is unassigned (RFC 7643 2.5),
            # so the member it names is found by its value alone. An operation's own keys
            # stay as sent.
            operations = data.get("Operations")
            if isinstance(operations, list):
                for operation in operations:
                    if isinstance(operation, dict) and "value" in operation:
                        operation["value"] = _without_null_items(operation["value"])
            else:
                data = _without_null_items(data)
            body = json.dumps(data).encode()
        return super().read_body(model, body, content_type, scim_ctx)

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        if resource.meta is not None and resource.meta.resource_type == "User":
            published = self.publish(base_url, resource)
            return self.resource_response(
                published, Context.RESOURCE_REPLACEMENT_RESPONSE, response_parameters
            )
        return super().patch_response(base_url, resource, response_parameters)


class ScimApplication(ASGIApplication):
    """The SCIM endpoints over Instroom's database, for connections with a valid token."""

    def __init__(self, settings: Settings, limits: Limits = LIMITS) -> None:
        with Session(get_engine(settings.database_url)) as session:
            languages = [language.code for language in list_languages(session=session)]
        provider = build_provider(limits, languages)
        super().__init__(InstroomStorage(settings, provider, limits), provider, _Service(provider))
        self.database_url, self.limits = settings.database_url, limits
        self.attempts = _Attempts(limits.wrong_tokens, limits.wrong_token_window)

    def _error(self, status: int, refusal: Issue, language: str, **headers: str) -> ScimResponse:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": str(status),
            "detail": refusal.text(language),
        }
        return ScimResponse(HTTPStatus(status), body, dict(headers))

    def _check(self, request: ScimRequest, address: str) -> ScimResponse | ScimConnection:
        """The caller's connection, or the answer that refuses the call."""
        engine = get_engine(self.database_url)
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        language = LANGUAGE
        with session_scope(engine) as session:
            if self.attempts.blocked(address):
                return self._error(
                    429,
                    issue("scim-refused", "too-many-attempts"),
                    language,
                    **{"Retry-After": str(int(self.limits.wrong_token_window))},
                )
            connection = (
                scim.authenticate(session=session, token=token.strip())
                if scheme.lower() == "bearer" and token
                else None
            )
            if connection is None:
                self.attempts.failed(address)
                return self._error(
                    401,
                    issue("scim-refused", "unauthorized"),
                    language,
                    **{"WWW-Authenticate": 'Bearer realm="Instroom SCIM"'},
                )
            if connection.paused:
                return self._error(
                    503, issue("scim-refused", "paused"), language, **{"Retry-After": "3600"}
                )
            limit = self._limit(request, language)
            if limit is not None:
                return limit
            session.expunge(connection)
            return connection

    def _limit(self, request: ScimRequest, language: str) -> ScimResponse | None:
        """A call that asks more than the limits allow, refused before its work starts."""
        limits = self.limits
        if request.body is not None and len(request.body) > limits.body_bytes:
            return self._error(
                413, issue("scim-refused", "too-large", limit=limits.body_bytes), language
            )
        query = request.query
        text = query.get("filter", "")
        if text and (len(text) > limits.filter_length or _nesting(text) > limits.filter_depth):
            return self._error(
                400,
                issue(
                    "scim-refused",
                    "filter-too-complex",
                    limit=limits.filter_depth,
                    length=limits.filter_length,
                ),
                language,
                scimType="invalidFilter",
            )
        count = query.get("count", "")
        if count.strip().lstrip("-").isdigit() and int(count) > limits.count:
            return self._error(
                400,
                issue("scim-refused", "count-too-large", limit=limits.count),
                language,
                scimType="invalidValue",
            )
        if request.method == "PATCH" and request.body:
            try:
                operations = json.loads(request.body).get("Operations") or []
            except (ValueError, AttributeError):
                return None  # scim2-server answers invalidSyntax
            if isinstance(operations, list) and len(operations) > limits.operations:
                return self._error(
                    400,
                    issue(
                        "scim-refused",
                        "too-many-operations",
                        count=len(operations),
                        limit=limits.operations,
                    ),
                    language,
                    scimType="tooMany",
                )
        return None

    def handle_exception(self, request: ScimRequest, exception: Exception) -> ScimResponse:
        if isinstance(exception, Busy):
            return self._error(
                503, issue("scim-refused", "busy"), LANGUAGE, **{"Retry-After": "30"}
            )
        return super().handle_exception(request, exception)

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            await self.serve_lifespan(receive, send)
            return
        request = await self._read(scope, receive)
        if isinstance(request, ScimResponse):
            await self.send_response(
                self.finalize_response(ScimRequest(method="GET", base_url="", path=""), request),
                send,
            )
            return
        address = (scope.get("client") or ("?", 0))[0]
        try:
            needs_auth = self.needs_auth(request)
        except SCIMException:
            needs_auth = False  # scim2-server answers the wrong path or method itself
        checked = await asyncio.to_thread(self._check, request, address) if needs_auth else None
        if isinstance(checked, ScimResponse):
            response = checked
        else:
            token = _CALLER.set(checked) if checked is not None else None
            try:
                response = await self.serve(request)
            finally:
                if token is not None:
                    _CALLER.reset(token)
        if "scimType" in response.headers:
            assert response.body is not None
            response.body["scimType"] = response.headers.pop("scimType")
        await self.send_response(response, send)

    async def _read(
        self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]]
    ) -> ScimRequest | ScimResponse:
        """The request, its body read no further than the limit."""
        request = ScimRequest(
            method=scope["method"],
            base_url=self.get_base_url(scope),
            path=self.split_path(self.get_path(scope)),
            query=dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True)),
            headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"]],
        )
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limits.body_bytes:
                refusal = issue("scim-refused", "too-large", limit=self.limits.body_bytes)
                return self._error(413, refusal, LANGUAGE)
        request.body = bytes(body)
        return request


def _nesting(text: str) -> int:
    """How deep a filter's parentheses and brackets nest (quoted text left out)."""
    depth = deepest = 0
    quoted = False
    previous = ""
    for char in text:
        if char == '"' and previous != "\\":
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and char in ")]":
            depth -= 1
        previous = char
    return deepest


def build_app(settings: Settings, limits: Limits = LIMITS) -> ScimApplication:
    """The ASGI application of /scim/v2 (mount it there, or serve it alone)."""
    return ScimApplication(settings, limits)


def routes(settings: Settings, limits: Limits = LIMITS) -> list[Mount]:
    """The service at /scim/v2, for the portal's server and `cli.py scim serve` alike."""
    return [Mount("/scim", app=build_app(settings, limits))]  # type: ignore[arg-type]
