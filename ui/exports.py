"""Downloads of users, built on request and offered for one run only."""

import streamlit as st
from sqlalchemy import Engine

from core import export
from core.i18n import NP_
from core.users import UserSearch
from db.engine import read_session
from ui.text import _, counted, current_language


def export_buttons(engine: Engine, search: UserSearch, total: int) -> None:
    """Export the whole selection or everyone, built only when asked for.

    The file exists on the server only for the run that offers it: downloading (or any other
    click) reruns the page without it, and Streamlit drops the file.
    """
    selection = counted(NP_("The selection ({count} user)", "The selection ({count} users)"), total)
    choices = {selection: search, _("Everyone"): UserSearch()}
    language = current_language()
    # Both forms import back; the readable one is for people, the other for other systems.
    forms = {_("Readable (labels and words)"): language, _("Field names (for other systems)"): None}
    which, form, fmt, prepare = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
    chosen = which.selectbox(_("Export"), list(choices))
    headings = form.selectbox(_("Headings"), list(forms))
    kind = fmt.selectbox(_("Format"), ["CSV", "XLSX"])
    if not prepare.button(_("Prepare the file")):
        return
    with read_session(engine) as session:
        frame = export.users_frame(
            session=session, user_ids=choices[chosen].matching_ids(), language=forms[headings]
        )
    sheet = _(export.USERS_SHEET)
    data = export.to_csv_bytes(frame) if kind == "CSV" else export.to_xlsx_bytes(frame, sheet)
    st.download_button(
        counted(
            NP_("Download {count} user ({format})", "Download {count} users ({format})"),
            len(frame),
            format=kind,
        ),
        data,
        f"users.{kind.lower()}",
        type="primary",
        on_click="ignore",
    )
