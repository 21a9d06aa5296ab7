"""a portal account signs in through Microsoft, Google or any OpenID Connect provider; every
sign-in attempt is logged

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.add_column(
            sa.Column('identity', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True)
        )
    # An index, not a constraint: on SQLite a constraint rebuilds the table, and dropping the
    # old one would cascade into the invitations' mail records.
    op.create_index('ix_accounts_identity', 'accounts', ['identity'], unique=True)
    op.create_table(
        'login_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column('signed_in', sa.Boolean(), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_events_at', 'login_events', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_events_at', table_name='login_events')
    op.drop_table('login_events')
    op.drop_index('ix_accounts_identity', table_name='accounts')
    with op.batch_alter_table('accounts') as batch_op:
        batch_op.drop_column('identity')
