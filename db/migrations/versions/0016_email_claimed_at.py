"""a message being sent remembers when it was claimed, so one left by a crash is found

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
