"""the group every imported user is in is called Iedereen, where it was still Everyone

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

GROUPS = sa.table('groups', sa.column('name', sa.String))


def _rename(old: str, new: str) -> None:
    # Only when the new name is free: an administrator's own group of that name stays.
    taken = sa.select(GROUPS.c.name).where(GROUPS.c.name == new).exists()
    op.execute(GROUPS.update().where(GROUPS.c.name == old, ~taken).values(name=new))


def upgrade() -> None:
    _rename('Everyone', 'Iedereen')


def downgrade() -> None:
    _rename('Iedereen', 'Everyone')
