"""a revert keeps the file name of the import it undid; the screens say "undoing import N"

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:00:00
"""

import re

import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

JOBS = sa.table(
    'import_jobs',
    sa.column('id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('file_name', sa.String),
)
# The English words a revert was once stored under, written into every reader's screen.
OLD_NAME = re.compile(r'^revert of import \d+ \((.*)\)$', re.DOTALL)


def upgrade() -> None:
    connection = op.get_bind()
    reverts = connection.execute(
        sa.select(JOBS.c.id, JOBS.c.file_name).where(JOBS.c.kind == 'revert')
    ).all()
    for job_id, name in reverts:
        match = OLD_NAME.match(name or '')
        if match:
            connection.execute(
                JOBS.update().where(JOBS.c.id == job_id).values(file_name=match.group(1))
            )


def downgrade() -> None:
    pass  # the screens make the words from reverts_job_id; the bare name is right either way
