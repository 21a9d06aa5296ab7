"""on SQLite, memberships are stored in their primary key's own order (WITHOUT ROWID): one
tree to write per link instead of a table and its key (1 s of two million links)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 20:30:00
"""

import warnings

from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

TABLES = ('user_groups', 'user_levels')


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        # Nothing refers to a member table, so dropping the old copy cascades into nothing.
        # The rebuild reads users too (a key points there), whose lowered-name indexes
        # SQLAlchemy cannot read back on SQLite and says so; they are not rebuilt here.
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', 'Skipped unsupported reflection of expression')
            with op.batch_alter_table(
                table, recreate='always', table_kwargs={'sqlite_with_rowid': with_rowid}
            ):
                pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
