"""Rotating the portal's keys: every stored secret sealed again, every login ended."""

from sqlalchemy import Engine
from sqlmodel import Session

from core import keys
from core.config import Settings
from core.links import LINK_SECRETS
from core.saved_settings import MAIL_PASSWORD, PASSWORD_SETTING
from core.vault import Vault
from db import links as link_queries
from db import queries
from db.engine import session_scope


def reseal_secrets(*, session: Session, vault_keys: list[str]) -> int:
    """Seal every stored secret again with the first of vault_keys; how many there were."""
    links, mail = Vault(vault_keys, LINK_SECRETS), Vault(vault_keys, MAIL_PASSWORD)
    count = 0
    for link in link_queries.list_links(session=session):
        if link.secret:
            link.secret = links.reseal(link.secret)
            session.add(link)
            count += 1
    setting = queries.find_setting(session=session, key=PASSWORD_SETTING)
    if setting is not None and setting.value:
        setting.value = mail.reseal(setting.value)
        session.add(setting)
        count += 1
    return count


def rotate_vault_key(*, engine: Engine, settings: Settings) -> int:
    """A new vault key; every secret is sealed with it and the old key is forgotten.

    The new key is written first, beside the old one, so a failure half-way leaves every
    secret readable; the next start (or rotation) finishes the work.
    """
    new_keys = keys.start_vault_rotation(settings)
    with session_scope(engine) as session:
        count = reseal_secrets(session=session, vault_keys=new_keys)
    keys.finish_vault_rotation(settings)
    return count


def finish_pending_rotation(*, engine: Engine, settings: Settings) -> None:
    """Seal with the vault key what an older key sealed (an upgrade, an interrupted rotation)."""
    if len(keys.vault_keys(settings)) > 1:
        with session_scope(engine) as session:
            reseal_secrets(session=session, vault_keys=keys.vault_keys(settings))
        keys.finish_vault_rotation(settings)
