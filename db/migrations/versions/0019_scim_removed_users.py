"""a user a provider removed (SCIM DELETE) is blocked and hidden from the provider; the
type of the address a provider gave reads back as it was sent

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
        batch_op.add_column(sa.Column('scim_email_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('scim_email_primary', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('scim_email_primary')
        batch_op.drop_column('scim_email_type')
        batch_op.drop_column('scim_removed_at')
