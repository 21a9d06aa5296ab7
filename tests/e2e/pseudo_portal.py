"""`streamlit run app.py` with Dutch as the pseudo-language, for the browser's pseudo test.

Streamlit runs the app's scripts in this process, so the catalog swapped here before it
starts is the one every page reads.
"""

import sys

from core import i18n
from tests.pseudo import PSEUDO, pseudo_translations

real = i18n.translations
i18n.translations = lambda language: (  # type: ignore[assignment]
    pseudo_translations() if language == PSEUDO else real(language)
)

if __name__ == "__main__":
    from streamlit.web import cli

    sys.exit(cli.main())
