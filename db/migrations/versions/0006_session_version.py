"""session version per account; the cookie key leaves the database

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:50:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), nullable=False, server_default='0')
        )
    # A key readable by anyone who reads the database could sign any login.
    op.execute("DELETE FROM app_settings WHERE key = 'cookie_key'")


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('session_version')
