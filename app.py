"""Instroom: the frame (page config, login gate) and the home page, served with /scim."""

import streamlit as st

from core.history import get_home_summary
from core.i18n import N_
from db.engine import read_session
from db.vocabulary import AccountRole
from ui.auth import require_account
from ui.text import _, current_language, number, shown

STATUS_WORDS = {"active": N_("Active"), "invited": N_("Invited"), "blocked": N_("Blocked")}


def home() -> None:
    """The home page: what there is, and the last imports."""
    st.set_page_config(page_title="Instroom", page_icon=":inbox_tray:", layout="wide")
    account, settings, engine = require_account()

    st.title("Instroom")
    st.caption(_("Create and update many user accounts at once, safely."))
    if account.role == AccountRole.ADMIN:
        st.page_link("pages/1_Import.py", label=_("Start an import"), icon=":material/upload_file:")
    with read_session(engine) as session:
        summary = get_home_summary(session=session, language=current_language())
    by_status = summary.users_by_status

    columns = st.columns(4)
    columns[0].metric(_("Users"), number(sum(by_status.values())))
    for column, status in zip(columns[1:], ("active", "invited", "blocked"), strict=True):
        column.metric(_(STATUS_WORDS[status]), number(by_status.get(status, 0)))

    st.subheader(_("Last imports"))
    if summary.recent_jobs:
        st.dataframe(
            shown(summary.recent_jobs, settings.time_zone), hide_index=True, placeholder=""
        )
    else:
        st.write(_("No imports yet."))


if __name__ == "__main__":
    home()
else:
    # `streamlit run app.py` imports this file to serve it: the portal, and the SCIM service
    # on the same port (python cli.py scim serve runs it on its own instead).
    from core import login_cookie, scim_server
    from core.config import load_settings
    from core.tcp import send_replies_at_once

    send_replies_at_once()
    settings = load_settings()
    app = st.App("app.py", routes=[*login_cookie.routes(settings), *scim_server.routes(settings)])
