"""a user a provider removed (SCIM DELETE) is blocked and hidden from the provider; how a
provider wrote a user (address type, a middle name or not) reads back as it was sent

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('scim_removed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('scim_words', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('scim_words')
        batch_op.drop_column('scim_removed_at')
