"""The attack that turned support into administrator, refused at every step of its chain."""

import os
import time
from pathlib import Path

import jwt
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from core import keys
from core.accounts import read_session_token
from core.config import Settings
from core.export import to_csv_bytes
from core.history import get_job_detail
from core.link_sources import SourceError
from core.links import LinkDraft, create_link
from core.options import ImportOptions
from core.read import ReadOptions
from core.vault import SecretError, Vault
from db.engine import session_scope
from db.models import utcnow
from tests.db.test_import_engine import run


def test_every_step_from_support_to_administrator_is_closed(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = Settings(
        database_url=db_url,
        cookie_key_file=data / "cookie_key",
        link_folders=(tmp_path,),  # the owner allowed a folder that holds the data folder
    )
    cookie = keys.cookie_key(settings)
    vault = keys.vault_keys(settings)

    # 1. A careless admin points a link at a key file, or at the process's environment.
    for target in (data / "cookie_key", data / "vault_key", Path("/proc/self/environ")):
        draft = LinkDraft(
            name=f"Sleutel {target.name}",
            source=f"folder:{target}",
            mapping=[],
            options=ImportOptions(),
            read_options=ReadOptions(),
        )
        with session_scope(engine) as session, pytest.raises(SourceError):
            create_link(
                session=session, settings=settings, draft=draft, created_by="beheer", now=utcnow()
            )

    # 2. Had the key reached a file anyway, support reads no secret in the history.
    environ = "INSTROOM_SMTP_PASSWORD=SmtpRealPassw0rd!"
    result = run(
        engine,
        f"Email;Voornaam;Achternaam\n{cookie};A;B\n{environ};C;D\nok@example.org;E;F\n",
    )
    with Session(engine) as session:
        detail = get_job_detail(session=session, job_id=result.job_id, language="nl")
    assert detail is not None and len(detail.issues) == 2
    shown = to_csv_bytes(detail.issues).decode() + to_csv_bytes(detail.rejected).decode()
    for secret in (cookie, "SmtpRealPassw0rd!"):
        assert secret not in shown
    assert "********" in shown

    # 3. A cookie forged with a leaked key lasts no longer than a login may.
    issued = int(time.time()) - 15 * 86400
    forged = jwt.encode(
        {"sub": "admin1", "ver": 0, "iat": issued, "exp": issued + 10 * 365 * 86400},
        cookie,
        algorithm="HS256",
    )
    assert read_session_token(forged, key=cookie, days=settings.session_days) is None

    # 4. The cookie key opens no stored secret; the vault key and the cookie key are apart.
    sealed = Vault(vault, "link secrets").seal({"header": "AfasToken geheim"})
    with pytest.raises(SecretError):
        Vault(cookie, "link secrets").open(sealed)
    assert (data / "vault_key").read_text().split() == vault
    assert all(os.stat(data / n).st_mode & 0o777 == 0o600 for n in ("cookie_key", "vault_key"))
