"""Issue records and the one registry of issue codes: severity, meaning and message templates.

Every issue Instroom reports is made here from its code and parameters, so a code means
one thing, always has one severity, and its words live in one place (to be translated).
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from string import Formatter
from typing import Any, Self

from core.entropy import SECRET_COLUMN, looks_secret
from core.i18n import N_, gettext, render
from db.vocabulary import Severity

ERROR: str = Severity.ERROR.value
WARNING: str = Severity.WARNING.value
# Parameters that carry one of Instroom's own words (not the file's), translated with it.
WORD_PARAMETERS = frozenset({"done", "kind", "status", "field_name", "problem", "part"})
PARAMETER_WORDS = (
    "active",
    "invited",
    "blocked",
    "unblocked",
    "given a password",
    "employee",
    "contact",
    "queued",
    "running",
    "succeeded",
    "completed_with_errors",
    "failed",
    "interrupted",
    "reverted",
    "email",
    "first name",
    "name insert",
    "last name",
    "username",
    "new username",
    "role",
    "language",
    "kind",
    "group",
    "level",
    "taxonomy",
    "subject",
    "body",
)

# What a reader is told when SQLite is held by an import in another process.
BUSY_MESSAGE = N_(
    "The database is busy with an import right now; try again when it has finished "
    "(the History page shows its progress)."
)


@dataclass(frozen=True)
class IssueType:
    """One stable code: its severity, what it means, and its messages by variant."""

    code: str
    severity: Severity
    meaning: str
    messages: dict[str, str]

    def message(self, variant: str, params: dict[str, Any], language: str = "en") -> str:
        """The message of a variant ("" is the usual one) in a language, with its parameters."""
        words = {
            k: gettext(v, language) if k in WORD_PARAMETERS and isinstance(v, str) else v
            for k, v in params.items()
        }
        return render(self.messages[variant], language, words)

    def parameters(self, variant: str) -> set[str]:
        """The names a variant's template needs."""
        return {name for _, name, _, _ in Formatter().parse(self.messages[variant]) if name}


def _type(code: str, severity: str, meaning: str, message: str = "", **variants: str) -> IssueType:
    messages = ({"": message} if message else {}) | {
        name.replace("_", "-"): text for name, text in variants.items()
    }
    return IssueType(code, Severity(severity), meaning, messages)


_TYPES = [
    # The file as a whole (nothing is written).
    _type(
        "empty-file",
        ERROR,
        "The file, the sheet or the pasted text holds no users.",
        file="The file is empty. Choose a file with a header row and at least one row of users.",
        pasted="Nothing was pasted. Paste a header row and rows of users, for example copied "
        "from Excel.",
        no_values="The file has no rows with values. Choose a file with a header row and at "
        "least one row of users.",
        header_only="The file has a header row but no rows of users below it. Add the users "
        "and upload it again.",
        sheet="The sheet {sheet!r} is empty. Choose the sheet with the users.",
        no_worksheet="The workbook has no worksheet, only charts or macros. Put the users on a "
        "worksheet and upload it again.",
    ),
    _type(
        "missing-file",
        ERROR,
        "The file named is not there.",
        "There is no file {name!r}.",
    ),
    _type(
        "not-a-spreadsheet",
        ERROR,
        "The file is another kind of file than a spreadsheet or text.",
        zip="The file is a zip archive but not an Excel workbook. Upload an .xlsx, .xls or "
        ".csv file.",
        binary_kind="The file is {kind}, not a spreadsheet. Upload an .xlsx, .xls or .csv file "
        "with the users.",
        binary="The file holds binary data, not text. Upload a CSV file or the .xlsx workbook.",
        other_format="The file is {kind}, a spreadsheet format Instroom does not read. Open "
        "it in Excel or LibreOffice, save it as an Excel workbook (.xlsx), and upload that.",
    ),
    _type(
        "damaged-file",
        ERROR,
        "The file is damaged or is not what its name says; saving it again helps.",
        damaged_zip="The file is a damaged zip archive, not a workbook Instroom can read. "
        "Save it again from Excel.",
        not_workbook="The file is named {suffix} but is not a valid Excel workbook. Open it in "
        "Excel and save it again, or export it as CSV.",
        damaged_text="The file starts like {encoding} text but is damaged. Save it again as "
        "CSV UTF-8.",
        damaged_workbook="The workbook cannot be read; it may be damaged. Open it in Excel, "
        "save it again, and upload it.",
        reader_stopped="The file made the reader stop half-way; it is damaged or made in a way "
        "no reader expects. Open it in Excel, save it again as .xlsx, and upload that.",
    ),
    _type(
        "unreadable-encoding",
        ERROR,
        "The file's text cannot be read in its encoding (or in the one chosen).",
        unknown_encoding="{encoding!r} is not an encoding Instroom knows. Try utf-8, cp1252 or "
        "latin-1.",
        wrong_encoding="The file is not valid {encoding}: byte {byte:,} cannot be read. Choose "
        "another encoding or let Instroom detect it.",
        unrecognised_encoding="The file's text encoding could not be recognised: it is not "
        "UTF-8, and read as Windows-1252 or Latin-1 it turns into unreadable symbols. Save it "
        "as 'CSV UTF-8' in Excel, or choose its encoding.",
        misread_encoding="The file looks like {encoding} text but does not read as it. Save it "
        "as 'CSV UTF-8' in Excel, or choose its encoding.",
    ),
    _type(
        "unclosed-quote",
        ERROR,
        "A quote opened in a row of a text file is never closed.",
        'Row {row} opens a quote (") that is never closed, so the rest of the '
        "file would be read as one cell. Close or remove the quote in that row.",
    ),
    _type(
        "invalid-delimiter",
        ERROR,
        "The delimiter chosen is not one character.",
        "The delimiter must be one character, such as ; , | or a tab.",
    ),
    _type(
        "html-file",
        ERROR,
        "A web page saved with a spreadsheet's name.",
        "The file is a web page (HTML), not a spreadsheet, even if its name says {suffix}. "
        "Some systems export such pages as 'Excel'. Open it in Excel and save it as an Excel "
        "workbook (.xlsx) or CSV, then upload that.",
    ),
    _type(
        "password-protected",
        ERROR,
        "The workbook is encrypted with a password.",
        "The workbook is protected with a password, so Instroom cannot read it. In Excel "
        "choose File > Info > Protect Workbook > Encrypt with Password, clear the password, "
        "save, and upload it again (or save it as CSV).",
        reader="The workbook is protected with a password. Remove the password in Excel and "
        "upload it again.",
    ),
    _type(
        "too-large",
        ERROR,
        "The file is beyond one of Instroom's limits; the message gives the file's figure.",
        file="The file is {megabytes:,.1f} MB; the limit is {limit:,.0f} MB. Split it into "
        "smaller files.",
        pasted="The pasted text has {characters:,} characters; the limit is {limit:,}. Upload "
        "the list as a file, or split it.",
        rows="The file has {rows:,} rows; the limit is {limit:,}. Split it into smaller files.",
        time="Reading the file took longer than the limit of {limit:,.0f} seconds. Save only "
        "the sheet with users as CSV, or split the file.",
        memory="Reading the file needed more than the limit of {limit:,.0f} MB of memory. The "
        "file asks for far more cells than it holds values; save only the users as CSV, or "
        "split the file.",
        source="The link's source holds more than {limit:,.0f} MB, the limit of an import "
        "file. Export fewer columns, or raise INSTROOM_MAX_UPLOAD_MB.",
        row_width="A row of the file has {columns:,} values; Instroom reads at most {limit:,} "
        "columns (A to ZZ). Check the delimiter, or remove the empty columns.",
        first_row_width="The first row has {columns:,} values; Instroom reads at most "
        "{limit:,} columns (A to ZZ). Check the delimiter, or remove the empty columns.",
        sheet_width="The sheet reaches cell {cell}, {columns:,} columns wide; Instroom reads at "
        "most {limit:,} columns (A to ZZ). Delete the columns and rows after the users' data "
        "(or copy the users to a new sheet) and save again.",
        unpacked="The workbook unpacks to {megabytes:,.0f} MB, more than Instroom reads. Save "
        "only the sheet with users, or export it as CSV.",
        cell="A cell of the workbook holds about {length:,} bytes of text; Excel itself keeps "
        "at most {limit:,} characters in a cell. Save the workbook again from Excel, or export "
        "the users as CSV.",
    ),
    _type(
        "unknown-sheet",
        ERROR,
        "The chosen sheet is not in the workbook.",
        "The workbook has no sheet named {sheet!r}; it has: {sheets}.",
    ),
    _type(
        "unknown-header-row",
        ERROR,
        "The chosen header row is not in the file.",
        "There is no row {row} in the file; its rows run from {first} to {last}.",
    ),
    _type(
        "unknown-column",
        ERROR,
        "A column named in a mapping is not in the file.",
        "The file has no column {header!r}; its columns are {columns}.",
        map_syntax="--map takes Header=field, not {value!r}.",
    ),
    # The file, reported but read.
    _type(
        "nul-characters",
        WARNING,
        "NUL characters in a text file were removed.",
        "The file contains NUL characters; they were removed. Check that the file was saved "
        "as text.",
    ),
    _type(
        "unknown-delimiter",
        WARNING,
        "Every line is split by a character Instroom does not detect by itself.",
        "Every line seems to be split by {delimiter!r}, which Instroom does not detect by "
        "itself; the file was read as one column. Choose {delimiter!r} as the delimiter (on "
        "the command line: --delimiter '{delimiter}').",
    ),
    _type(
        "mixed-encoding",
        WARNING,
        "A row is UTF-8 text inside a Windows-1252 or Latin-1 file.",
        "Row {row} looks like UTF-8 text in a {encoding} file ({text!r}); the file mixes "
        "encodings. Save it again as CSV UTF-8.",
    ),
    _type(
        "rows-above-header",
        WARNING,
        "Rows above the header (a title) were passed over.",
        one="Row {first} above the header (row {header}) was not imported: {texts}. Choose "
        "another header row if it holds users.",
        many="Rows {first} to {last} above the header (row {header}) were not imported: "
        "{texts}. Choose another header row if they hold users.",
    ),
    _type(
        "duplicate-header",
        WARNING,
        "Two or more columns of the file have the same header.",
        "Columns {letters} are all named {header!r}. Only one of them can be imported as a "
        "field: check in the mapping which one holds the right values, and leave the other out.",
    ),
    _type(
        "hidden-sheet",
        WARNING,
        "A hidden sheet of the workbook was not read.",
        "The sheet {sheet!r} is hidden and was not read. Choose it explicitly if its users "
        "should be imported.",
    ),
    _type(
        "legacy-xls",
        WARNING,
        "An old .xls workbook: its hygiene cannot be checked.",
        "This is an old .xls workbook: formulas, hidden rows and merged cells cannot be "
        "checked. Save it as .xlsx to have them checked.",
    ),
    _type(
        "unchecked-workbook",
        WARNING,
        "A workbook whose formulas, hidden rows and merged cells cannot be checked.",
        xlsb="This is a binary Excel workbook (.xlsb): formulas, hidden rows and merged cells "
        "cannot be checked. Save it as .xlsx to have them checked.",
        layout="This workbook keeps its sheets where Excel does not put them: formulas, hidden "
        "rows and merged cells cannot be checked. Open it in Excel and save it again as .xlsx "
        "to have them checked.",
    ),
    _type(
        "unchecked-ods",
        WARNING,
        "An OpenDocument spreadsheet: its hygiene cannot be checked.",
        "This is an OpenDocument spreadsheet: formulas, hidden rows and merged cells cannot be "
        "checked. Save it as .xlsx to have them checked.",
    ),
    # Cells of a workbook (spreadsheet hygiene).
    _type(
        "formula",
        ERROR,
        "A cell holds a formula, whose stored value may be stale.",
        "Cell {cell} holds a formula; the value Instroom reads may be stale. Replace the "
        "formula by its value (Paste Special > Values) and upload again.",
    ),
    _type(
        "error-value",
        ERROR,
        "A cell shows an Excel error value such as #N/A.",
        "Cell {cell} shows the Excel error {error!r}, so it has no value to import. Correct the "
        "cell (or its formula) in Excel, or correct it here.",
    ),
    _type(
        "merged-cell",
        WARNING,
        "Merged cells: only the first holds the value.",
        "Cells {first}:{last} are merged; only {first} holds the value and the others read as "
        "empty. Unmerge them.",
    ),
    _type(
        "hidden-row",
        WARNING,
        "A hidden row is imported.",
        "Row {row} is hidden in Excel but is imported. Unhide it to check it, or delete it.",
    ),
    _type(
        "hidden-column",
        WARNING,
        "A hidden column is imported.",
        "Column {letter} is hidden in Excel but is imported. Unhide it to check it, or delete it.",
    ),
    _type(
        "hyperlink",
        WARNING,
        "A cell is a hyperlink; its text is imported.",
        "Cell {cell} is a hyperlink; Instroom imports its text, not the link target.",
    ),
    # The mapping.
    _type(
        "unknown-field",
        ERROR,
        "A column is mapped to a field the portal does not have.",
        "{field!r} is not a field of this portal; choose another field or leave the column out.",
    ),
    _type(
        "ambiguous-column",
        ERROR,
        "A mapped column's header appears twice, so the mapping cannot tell them apart.",
        "The header {header!r} appears twice (columns {first} and {second}). Rename one of "
        "them, or leave one out of the mapping.",
    ),
    _type(
        "field-mapped-twice",
        ERROR,
        "Two columns are mapped to the same field.",
        "Columns {columns} are both mapped to {field!r}. Map only one of them to it.",
    ),
    _type(
        "missing-required-field",
        ERROR,
        "No column is mapped to a field every row needs (email).",
        "No column is mapped to {field!r}, which every row needs. Map the column that holds it.",
        with_columns="No column is mapped to {field!r}, which every row needs. Map the column "
        "that holds it. The file's columns are: {columns}. Say which one holds the addresses "
        'with --map, for example --map "{example}=email".',
    ),
    # Rows.
    _type(
        "missing-email",
        ERROR,
        "A row has no email address.",
        "The email address is empty. Every row needs one: fill it in or remove the row.",
    ),
    _type(
        "invalid-email",
        ERROR,
        "The email address is not valid.",
        "{value!r} is not a valid email address: {problem} Correct it, e.g. name@example.org.",
        too_long="The email address is longer than 320 characters. Correct it.",
    ),
    _type(
        "lookalike-email",
        WARNING,
        "The address's domain mixes alphabets, as look-alike addresses do.",
        "The domain of {address} mixes letters from different alphabets, as look-alike "
        "addresses do. Check that it is the real address.",
    ),
    _type(
        "duplicate-email",
        ERROR,
        "The same email address appears in more than one row of the file.",
        "The email address {email} also appears in row {others}; each address may appear only "
        "once. Keep one of the rows.",
    ),
    _type(
        "email-taken",
        ERROR,
        "A user's new email address already belongs to another user.",
        "{email} already belongs to another user.",
    ),
    _type(
        "missing-name",
        ERROR,
        "A new user has no first or last name.",
        first_name="{email} is a new user and needs a first name. Fill it in, or correct the "
        "email address if the user should already exist.",
        last_name="{email} is a new user and needs a last name. Fill it in, or correct the "
        "email address if the user should already exist.",
        both="{email} is a new user and needs a first name and a last name. Fill them in, or "
        "correct the email address if the user should already exist.",
    ),
    _type(
        "missing-username",
        ERROR,
        "The row needs a username and has none.",
        match="This import matches users on their username, but the row has none. Fill it in.",
        rename="Changing a username needs the current username and the new one; fill in both.",
    ),
    _type(
        "username-too-long",
        ERROR,
        "A username has more than 20 characters.",
        "The username {value!r} has {length} characters; at most {limit} are allowed.",
    ),
    _type(
        "username-has-at",
        ERROR,
        "A username contains '@'.",
        "The username {value!r} contains '@'. Usernames are user codes, not email addresses: "
        "remove the '@'.",
    ),
    _type(
        "username-taken",
        ERROR,
        "A username is used twice in the file or belongs to another user.",
        in_file="The username {value!r} is also used in row {others}; usernames must be unique.",
        stored="The username {value!r} already belongs to {holder}. Choose another one.",
    ),
    _type(
        "missing-password",
        ERROR,
        "Action 5 (set password) without a password.",
        "Action 5 sets a password, but the password cell is empty. Fill it in.",
    ),
    _type(
        "weak-password",
        ERROR,
        "An imported password breaks the password rule.",
        "The password is shorter than {limit} characters. Give a longer one, or leave the cell "
        "empty to keep the current password.",
        too_long="The password is longer than 72 bytes, more than a password can hold. Give a "
        "shorter one ({limit} characters or more).",
        personal="The password contains the user's own name, username or email address, or "
        "the word Instroom. Give one a stranger could not guess from those ({limit} characters "
        "or more).",
        guessable="The password is too easy to guess: a common password, a repeat, a sequence "
        "or a keyboard row. A few unrelated words make a strong one ({limit} characters or "
        "more).",
    ),
    _type(
        "invalid-action",
        ERROR,
        "The action (AFAS mutation code) is not one Instroom knows.",
        "{value!r} is not an action. Use 0 block, 1 import, 2 import and block, 3 import and "
        "create groups, 4 change username, 5 set password, 6 unblock (or the words).",
    ),
    _type(
        "empty-action",
        WARNING,
        "The action cell is empty (AFAS: an empty code means block).",
        block="The {header} is empty. As in AFAS Profit, an empty code means 0: the user is "
        "blocked and leaves all groups. Choose 'an empty code means: no action' to only update "
        "such rows.",
        none="The {header} is empty. By your choice it means no action: the row only updates "
        "the user.",
    ),
    _type(
        "invalid-status",
        ERROR,
        "The status is not one Instroom knows.",
        "{value!r} is not a status. Use active or blocked (also: Yes/No, Active/Suspended).",
    ),
    _type(
        "invalid-kind",
        ERROR,
        "The kind is not employee or contact.",
        "{value!r} is not a kind of user. Write employee or contact.",
    ),
    _type(
        "unknown-role",
        ERROR,
        "The role is not one of the portal's roles.",
        "{value!r} is not a known role. Use one of: {choices}; or add it under Settings.",
    ),
    _type(
        "unknown-language",
        ERROR,
        "The language is not one of the portal's languages.",
        "{value!r} is not a known language. Use one of: {choices}; or add it under Settings.",
    ),
    _type(
        "unknown-group",
        ERROR,
        "A group does not exist and the import may not create it.",
        "The group {value!r} does not exist. Check the spelling, add it under Settings, or "
        "allow the import to create missing groups.",
    ),
    _type(
        "unknown-level",
        ERROR,
        "A level does not exist and the import may not create it.",
        "The level {value!r} does not exist. Check the spelling, add it under Settings, or "
        "allow the import to create missing levels.",
    ),
    _type(
        "unknown-term",
        ERROR,
        "A taxonomy term does not exist and the import may not create it.",
        "{value!r} is not a term of {label}. Use an existing term, or allow the import to "
        "create missing terms.",
    ),
    _type(
        "multiple-terms",
        ERROR,
        "A single-valued taxonomy field holds several terms.",
        "{label} takes one value per cell, but {value!r} has several. Keep one.",
    ),
    _type(
        "invalid-date",
        ERROR,
        "A date field holds something that is not a date.",
        "{value!r} is not a date. Write it as 2024-03-31 or 31-03-2024.",
    ),
    _type(
        "value-too-long",
        ERROR,
        "A value is longer than its field keeps.",
        "The {field_name} is longer than {limit} characters. Shorten it.",
        profile="The {field_name} has more than {limit:,} characters. Shorten it.",
    ),
    _type(
        "control-characters",
        ERROR,
        "A cell holds invisible control characters.",
        "The {column} value contains invisible control characters. Remove them and upload again.",
    ),
    _type(
        "bidi-control",
        WARNING,
        "A cell holds a hidden text-direction character.",
        "The {column} value contains a hidden text-direction character, so it shows "
        "differently from what is stored. Check it and retype it if in doubt.",
    ),
    _type(
        "leading-zero-lost",
        WARNING,
        "A number looks like a Dutch phone or code number that lost its leading 0.",
        "The {column} value {value} looks like a Dutch number that lost its leading 0 (Excel "
        "drops it from numbers); it is imported as written. Write 0{value} in the file if that "
        "is meant.",
    ),
    # Rows compared with the stored users.
    _type(
        "not-found",
        WARNING,
        "An update-only import meets a user that does not exist; the row is skipped.",
        "No user {email} exists and this import only updates users; the row was skipped.",
    ),
    _type(
        "already-exists",
        WARNING,
        "A create-only import meets a user that exists; the row is skipped.",
        "{email} already exists and this import only creates users; the row was skipped.",
    ),
    _type(
        "unknown-user",
        ERROR,
        "An action (block, unblock, set password, change username) names a user that does "
        "not exist.",
        email="No user with the email address {email} exists, so it cannot be {done}. Check "
        "the address.",
        by_username="No user has the username {username!r}, so it cannot be {done}. Check the "
        "username.",
        username="No user has the username {username!r}, so it cannot be changed. Check the "
        "username.",
    ),
    _type(
        "protected-user",
        WARNING,
        "A protected user is never changed by an import; the row is skipped.",
        "{email} is a protected user; imports never change it. The row was skipped.",
    ),
    _type(
        "too-many-deactivations",
        ERROR,
        "A full-list import would block more users than its limit allows; nothing is written.",
        "This full-list import would deactivate {count:,} of {population:,} {kind} users, more "
        "than the limit of {limit:,} ({setting}). Nothing was changed. Check that the file is "
        "complete, or raise the limit.",
    ),
    # Jobs: reverting and restarting.
    _type(
        "unknown-import",
        ERROR,
        "There is no import with that number.",
        "There is no import {job_id}.",
    ),
    _type(
        "already-reverted",
        ERROR,
        "The import was reverted before.",
        "Import {job_id} was already reverted; it cannot be reverted twice.",
        by_job="Import {job_id} was already reverted by job {by}; it cannot be reverted twice.",
    ),
    _type(
        "not-revertible",
        ERROR,
        "Only a finished import that changed users can be reverted.",
        "Import {job_id} is {status}; only a finished import that changed users can be reverted.",
    ),
    _type(
        "not-restartable",
        ERROR,
        "Only an interrupted import whose file was kept can be started again.",
        "Only an interrupted import whose file was kept can be started again.",
    ),
    _type(
        "revert-protected",
        WARNING,
        "A revert leaves a user that is protected now as it is.",
        "{email} is a protected user now; a revert does not change it.",
    ),
    _type(
        "revert-conflict",
        WARNING,
        "A user was changed after the import; a revert leaves it as it is unless told.",
        "{email} was changed after the import; it was left as it is. Choose to overwrite it if "
        "the import's values should be taken back anyway.",
        status="{email} has the status {status} since the import; it was left as it is. Choose "
        "to overwrite it if it should be blocked again anyway.",
        deleted="{email} was deleted for good by the identity provider; a revert cannot put "
        "them back. Let the provider create them again.",
    ),
    # Links: scheduled imports from the HR system's export.
    _type(
        "invalid-source",
        ERROR,
        "A link's source is not written as Instroom reads sources.",
        "{value!r} is not a source. Write folder:/path/pattern, "
        "sftp://user@host:port/path/pattern or an https:// address.",
        folder="{value!r} is not a folder source: write folder: and the full path of the "
        "folder with the file name or a pattern, such as folder:/srv/hr/medewerkers_*.csv.",
        sftp="{value!r} is not an SFTP source: write sftp://user@host:port/path/pattern, such "
        "as sftp://instroom@sftp.example.nl:22/export/medewerkers_*.csv.",
        plain_http="{value!r} uses plain http://, which would send the link's token "
        "unencrypted. Use https://; plain http:// is only allowed to this machine itself.",
        password_in_address="The address holds a password. Leave it out of the address and "
        "give it as the link's secret, which is stored encrypted.",
        folders_off="Links from a folder are off on this server. Whoever runs Instroom can "
        "name the folders links may read in INSTROOM_LINK_FOLDERS.",
        folder_not_allowed="{folder} is not in a folder links may read ({allowed}). Put the "
        "export in one of those, or ask whoever runs Instroom to add its folder to "
        "INSTROOM_LINK_FOLDERS.",
        folder_private="{folder} holds Instroom's own data or the system's; a link never reads "
        "there. Put the export in a folder of its own.",
    ),
    _type(
        "source-unavailable",
        ERROR,
        "A link's source could not be reached or gave no file; nothing was imported.",
        no_folder="The folder {folder} does not exist or cannot be read by Instroom.",
        no_match="No file in {folder} matches {pattern}.",
        sftp_folder="The SFTP server {where} cannot list the folder {folder}: {answer}.",
        sftp_login="The SFTP server {where} refused the login of {user!r}. Check the user "
        "name and the link's password or key.",
        sftp="The SFTP server {where} could not be reached: {answer}.",
        http_status="The server at {url} answered {status} {reason}: {answer} (check the "
        "address and the link's token).",
        http="The server at {url} could not be reached: {answer}.",
        redirect="The server at {url} sent the link on to {target}, another server; a link's "
        "token is never sent on. Use the address the export really lives at.",
        stopped="Fetching from the source stopped half-way; nothing was imported. Run the "
        "link again; if it stops again, check the source's address and its export.",
        deadline="The source did not give its whole file within {seconds:,} seconds; nothing "
        "was imported. Check that the server answers, then run the link again.",
        not_regular="{name} in {folder} is not an ordinary file (a link or a device); a link "
        "reads only ordinary files.",
        not_json_page="The next page of {url} is not JSON; the export cannot be read whole.",
        bad_json="The server at {url} sent JSON that cannot be read: {answer}.",
        json_shape="The server at {url} sent JSON that is not a list of rows: expected an "
        'array of objects, or AFAS Profit\'s {{"skip": 0, "take": 100, "rows": [...]}}.',
    ),
    _type(
        "host-key-changed",
        ERROR,
        "An SFTP server showed another host key than the one pinned on its first use.",
        "The SFTP server {where} showed a different host key than the one pinned on the "
        "link's first run, so no password or key was sent to it. If the server was really "
        "replaced, forget the pinned key (Settings > Links, or `cli.py links forget-host-key`) "
        "and run the link again.",
    ),
    _type(
        "run-interrupted",
        ERROR,
        "A link's run stopped half-way because the process running it stopped.",
        "The run stopped half-way: the process running it was stopped (a restart, a crash). "
        "Nothing of its import was kept. It runs again at its next time, or start the import "
        "again from the history.",
    ),
    _type(
        "secret-unreadable",
        ERROR,
        "A stored secret was sealed with another vault key and cannot be opened.",
        "The stored secret cannot be opened: the portal's vault key (the vault_key file) "
        "changed since it was entered. Enter the password, key or token again.",
    ),
    _type(
        "invalid-schedule",
        ERROR,
        "A link's schedule is not written as Instroom reads schedules.",
        "{value!r} is not a schedule. Choose every N hours, daily at HH:MM, or a cron "
        "expression such as 0 2 * * 1-5.",
        hours="Every {value} hours is not a schedule: choose from 1 to 24 hours.",
        time="{value!r} is not a time of day: write HH:MM, such as 02:00.",
        cron="{value!r} is not a cron expression: write five fields (minute, hour, day, "
        "month, weekday), such as 0 2 * * 1-5 for 02:00 on working days.",
    ),
    _type(
        "invalid-link",
        ERROR,
        "A link cannot be saved as asked; the message says what to change.",
        name="A link needs a name of 1 to {limit} characters.",
        exists="There is already a link named {name!r}; choose another name.",
        full_list="A full-list link blocks whoever the export leaves out, every run, without "
        "anyone looking: give it a deactivation limit (such as 5%).",
        notify="{value!r} is not an email address to mail about the link.",
        folder_secret="A folder source needs no password, key or token; leave the secret empty.",
    ),
    # Mail the organisation writes.
    _type(
        "invalid-template",
        ERROR,
        "A mail template cannot be saved; the message says what is wrong in it.",
        syntax="The {part} cannot be read as a template on line {line}. Check the braces there: "
        "a placeholder is written {{{{ voornaam }}}}.",
        unclosed="The {part} opens {{{{ or {{% on line {line} without closing it: a placeholder "
        "ends with }}}} and an instruction with %}}.",
        unclosed_block="The {part} starts {{% {block} %}} on line {line} but never ends it with "
        "{{% end{block} %}}.",
        unknown_tag="The {part} uses {{% {name} %}} on line {line}, which a mail template does "
        "not know. A placeholder is written {{{{ voornaam }}}}.",
        fails="The {part} stops with an error when it is filled in with example values. Check "
        "the calculations and filters in it.",
        number="The template uses the number {number:,}, larger than the {limit:,} a mail "
        "template may use.",
        unknown="The template names {names}, which this message does not have. It can use: "
        "{allowed}.",
        unsafe="The template tries something a mail template may not do. Use only the "
        "placeholders listed beside the editor.",
        too_long="The template is longer than {limit:,} characters. Shorten it.",
        too_slow="The template takes longer than {seconds} seconds to fill in or writes more "
        "than {limit:,} characters (a loop in a loop, or a very wide value). Simplify it.",
        no_link="The {part} of this message must contain {placeholder}: without it the "
        "recipient has no way to choose a password.",
    ),
    _type(
        "unknown-link",
        ERROR,
        "There is no link with that name.",
        "There is no link {name!r}. `cli.py links list` shows the links there are.",
    ),
    # Refusals of what an administrator asks outside an import; each message says what to do.
    _type(
        "account-refused",
        ERROR,
        "A portal account cannot be made or changed as asked.",
        password_stdin="Give the password on standard input with --password-stdin.",
        no_provider="Local passwords can only be switched off when an identity provider is "
        "configured ([auth] in secrets.toml); otherwise nobody could log in.",
        username="The username must be 2-50 characters: letters, digits, dot, dash or underscore.",
        role="The role must be one of: {roles}.",
        username_taken="An account named {username!r} already exists; choose another name.",
        email="Enter one valid email address, such as name@example.org ({value!r} is not one).",
        language="The language must be one of: {languages}.",
        unknown_account="There is no account named {username!r}.",
        disabled="This account is disabled. Ask an administrator of the portal.",
        last_admin="This is the last active administrator; add another one first.",
        disabled_invitation="This account is disabled; enable it first.",
    ),
    _type(
        "catalogue-refused",
        ERROR,
        "A group, level, role, taxonomy, term, language or profile field cannot be changed so.",
        empty_name="Enter a name for the {kind}.",
        name_too_long="The name of a {kind} can be at most 200 characters.",
        name_separator="The name of a {kind} cannot contain '{separator}': files use it to "
        "separate several values in one cell.",
        gone="That {kind} no longer exists; reload the page.",
        everyone_group="Every user is in the group {name!r}; it can be renamed, not removed.",
        name_taken="A {kind} named {name!r} already exists.",
        in_use="Users have the {kind} {name!r} ({count}). Confirm that you want to remove it "
        "from them as well.",
        language_code="A language code is 2 or 3 letters, optionally with a region: nl, en, fr-BE.",
        language_taken="The language {code!r} already exists.",
        language_gone="That language no longer exists; reload the page.",
        language_in_use="Users have the language {code!r} ({count}). Confirm that you want to "
        "clear it for them as well.",
        term_taken="The term {term!r} already exists in this taxonomy.",
        term_gone="That term no longer exists; reload the page.",
        field_key="A field key starts with a letter and has 2-50 lower-case letters, digits or "
        "'_'.",
        built_in_key="{key!r} is a built-in field of every user; choose another key.",
        key_taken="A profile field with the key {key!r} already exists.",
        field_type="The type must be one of: {types}.",
        needs_taxonomy="A taxonomy field needs a taxonomy; add one under Taxonomies first.",
        field_gone="That profile field no longer exists; reload the page.",
        field_label="Enter a label for the profile field.",
        unknown_email="There is no user with the email address {email!r}.",
        taxonomy_in_use="Profile fields use this taxonomy ({labels}); change them first.",
        new_field_label="A new field needs a label, such as Kostenplaats.",
        label_taken="Another field already has the label {label!r}; choose another label.",
    ),
    _type(
        "invalid-option",
        ERROR,
        "An import option has a value that cannot be used.",
        mode="The mode must be one of {modes}, not {value!r}.",
        match="Match on 'email' or 'username', not {value!r}.",
        empty_action="An empty action means 'block' or 'none', not {value!r}.",
        kind="The kind must be 'employee' or 'contact', not {value!r}.",
        keep_days="Keep the file for 0 to {limit} days, not {value}.",
        completion_email="The address for the completion email, {value!r}, is not a valid email "
        "address: {reason}",
        deactivation_limit="The deactivation limit is a number or a percentage such as 25 or 10%,"
        " not {value!r}.",
        fixed_term="A term for every row is written field=term, such as afdeling=Zorg, not "
        "{value!r}.",
        unknown_choice="There is no {kind} {value!r}; choose one of: {choices} (Settings lists "
        "them, and adds new ones).",
        unknown_taxonomy_field="There is no taxonomy field {value!r} to give every row a term; "
        "use one of: {choices}.",
    ),
    _type(
        "password-refused",
        ERROR,
        "A password chosen for a portal account or with a link breaks the password rule.",
        too_short="The password must be at least {limit} characters long.",
        too_long="The password must be at most 72 bytes long.",
        personal="The password contains your name, username or email address, or the word "
        "Instroom. Choose one a stranger could not guess from those.",
        guessable="The password is too easy to guess: a common password, a repeat, a sequence "
        "or a keyboard row. A few unrelated words make a strong one.",
        differ="The two passwords differ; type the same password twice.",
    ),
    _type(
        "link-refused",
        ERROR,
        "A link to choose a password is unknown, already used or expired.",
        invitation_invalid="This link is not valid or has already been used. Ask an "
        "administrator of the portal to send you a new one.",
        invitation_expired="This link has expired. Ask an administrator of the portal to send "
        "you a new one.",
        activation_invalid="This link is not valid or has already been used. If you have not "
        "set your password yet, ask your administrator for a new link.",
        activation_expired="This link has expired. Ask your administrator to send you a new "
        "welcome email.",
    ),
    _type(
        "activation-refused",
        ERROR,
        "An imported user's account cannot be activated with a link.",
        blocked="This account is blocked. Contact your administrator.",
        protected="This account is managed by your administrator and cannot be activated with a "
        "link. Contact your administrator.",
    ),
    _type(
        "invalid-time-zone",
        ERROR,
        "The time zone is not one the portal knows.",
        set_on_server="The time zone is set by {setting} on the server; change it there.",
        unknown="{name!r} is not a time zone; choose one from the list, such as Europe/Amsterdam.",
    ),
    _type(
        "invalid-mail-server",
        ERROR,
        "The mail server cannot be saved as entered.",
        port="A port is a number from 1 to 65535, not {value}.",
        security="The security is none, starttls or ssl.",
        sender="{value!r} is not an email address to send from.",
        password_needed="The server, port or login name changed: type the password for the new "
        "server again (the stored one is only sent to the server it was given for).",
    ),
    _type(
        "unusable-output",
        ERROR,
        "An output file of the command line cannot be written.",
        symbolic_link="{path} is a symbolic link; give the path of a real file to write.",
    ),
    _type(
        "scim-not-kept",
        WARNING,
        "A provider sent an attribute its connection keeps in no field.",
        "The identity provider sends {attribute}, which this connection keeps in no field; "
        "choose a profile field for it under Settings > SCIM.",
    ),
    _type(
        "scim-refused",
        ERROR,
        "A SCIM connection cannot be set up as asked, or a provider's call is refused.",
        name_empty="Give the connection a name, such as Entra ID.",
        name_too_long="A connection's name is at most {limit} characters.",
        name_taken="There is already a connection named {name!r}; choose another name.",
        unknown="There is no SCIM connection named {name!r}.",
        unknown_user="There is no user with the number {value}.",
        unknown_member="A member of the group is not a user of Instroom (number {value}).",
        deactivate="This connection may not block users; an administrator of Instroom can block "
        "the user.",
        group_taken="There is already a group named {name!r}.",
        not_own_group="This connection may only change the groups it created; {name!r} was "
        "not created by it.",
        everyone_group="Every user of Instroom is in the group {name!r}; a provider cannot "
        "change it.",
        paused="This connection is paused in Instroom; an administrator of Instroom resumes it.",
        busy="Instroom is busy with an import; try again in a minute.",
        too_large="The request is larger than {limit} bytes; send fewer changes at once.",
        too_many_operations="The request has {count} operations; at most {limit} are taken "
        "at once.",
        filter_too_complex="The filter is too long or nests too deep; at most {limit} levels "
        "and {length} characters.",
        count_too_large="At most {limit} results are returned per page; ask for fewer.",
        filter_unindexed="With more than {limit} users, a filter must name userName, "
        "externalId, emails or id.",
        unauthorized="The token is not valid. Ask the administrator of Instroom for a new one "
        "and enter it at the identity provider.",
        too_many_attempts="Too many wrong tokens from this address; try again later.",
        protected_member="The group {name!r} has a protected user ({email}); it stays until an "
        "administrator of Instroom takes them out of it.",
        unknown_role="There is no role {value!r}; add it under Settings > Roles first.",
        unknown_language="There is no language {value!r}; add it under Settings > Languages first.",
        unknown_field="There is no profile field {value!r}; add it under Settings > Profile "
        "fields first.",
    ),
]
ISSUE_TYPES: dict[str, IssueType] = {t.code: t for t in _TYPES}


@dataclass(frozen=True)
class Issue:
    """One problem found in a file or a row; `code` is a stable slug other tools can rely on.

    The message is the English text; variant and params let it be written again in any
    language (see text), so an issue is stored as its code and parameters.
    """

    code: str
    message: str
    severity: str = ERROR
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: str | None = None
    variant: str = ""
    params: dict[str, Any] | None = dc_field(default=None, compare=False)

    def text(self, language: str) -> str:
        """The message in a language; as stored when it was made without parameters."""
        if self.params is None or self.code not in ISSUE_TYPES:
            return self.message
        where = {"row": self.row, "column": self.column, "field": self.field, "value": self.value}
        return ISSUE_TYPES[self.code].message(self.variant, where | self.params, language)

    def as_dict(self) -> dict[str, Any]:
        """A plain dictionary, for JSON and the database."""
        return asdict(self)

    def as_contract(self, language: str = "en") -> dict[str, Any]:
        """The issue as the CLI's JSON contract has it (the value is left out)."""
        found = {k: getattr(self, k) for k in ("row", "column", "field", "code", "severity")}
        return found | {"message": self.text(language)}


def _storable(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON keeps them: numbers and text stay, anything else becomes text."""
    return {
        k: v if v is None or isinstance(v, bool | int | float | str) else str(v)
        for k, v in params.items()
    }


# What a masked value reads as, wherever it is shown.
SECRET_MASK = "********"
WHERE_KEYS = frozenset({"row", "column", "field"})


def issue(
    code: str,
    variant: str = "",
    /,
    *,
    row: int | None = None,
    column: str | None = None,
    field: str | None = None,
    value: str | None = None,
    **params: Any,
) -> Issue:
    """The issue of a registered code, its message made from the variant's template.

    A value that looks like a secret (or sits in a password column) is masked here, so no
    message, stored issue or download repeats it to whoever reads the history.
    """
    kind = ISSUE_TYPES[code]
    secret_column = field == "password" or bool(column and SECRET_COLUMN.search(column))
    if value is not None and (secret_column or looks_secret(value)):
        params = {k: SECRET_MASK if v == value else v for k, v in params.items()}
        value = SECRET_MASK
    params = {
        k: SECRET_MASK if isinstance(v, str) and k not in WHERE_KEYS and looks_secret(v) else v
        for k, v in params.items()
    }
    where = {"row": row, "column": column, "field": field, "value": value}
    message = kind.message(variant, where | params)
    severity = kind.severity.value
    return Issue(code, message, severity, row, column, field, value, variant, _storable(params))


class InstroomError(Exception):
    """Something Instroom refuses to do, with a message that says why and what to do."""


class Refusal(InstroomError):
    """A refusal with a registered code: the message is the issue's, nothing is written."""

    def __init__(
        self, code: str, message: str, variant: str = "", params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.variant = variant
        self.params = params
        # What was found in the file before it was refused (a strange delimiter), to be
        # shown with the refusal: it may be the very reason.
        self.findings: list[Issue] = []

    @classmethod
    def of(cls, code: str, variant: str = "", /, **params: Any) -> Self:
        """The refusal of a registered code, its message made from the variant's template."""
        return cls(code, ISSUE_TYPES[code].message(variant, params), variant, _storable(params))

    @classmethod
    def of_issues(cls, found: Sequence[Issue]) -> Self:
        """The refusal of the first issue found, the others kept as its findings."""
        first = found[0]
        refusal = cls(first.code, first.message, first.variant, first.params)
        refusal.findings = list(found[1:])
        return refusal

    def __reduce__(self) -> tuple[Any, ...]:
        # Files are read in a child process; the refusal travels back pickled.
        return (type(self), (self.code, self.message, self.variant, self.params))

    @property
    def issue(self) -> Issue:
        """The same problem as an issue record."""
        return Issue(self.code, self.message, variant=self.variant, params=self.params)

    def text(self, language: str) -> str:
        """The message in a language."""
        return self.issue.text(language)


class UnusableFileError(Refusal):
    """The file as a whole, or its mapping, cannot be imported; nothing is written."""


class ScimRefusal(Refusal):
    """A SCIM call or a connection's setting is refused; nothing is written."""


class JobError(Refusal):
    """A job cannot be reverted or started again as asked; nothing is changed."""


def column_letter(index: int) -> str:
    """Spreadsheet column letters for a 0-based column index (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based column index of spreadsheet column letters (A -> 0, AB -> 27)."""
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1
