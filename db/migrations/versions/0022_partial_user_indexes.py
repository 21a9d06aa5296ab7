"""a new user's insert skips the indexes of values most users lack: the activation token and
the provider's key are indexed only where set; the plain userName index, which no lookup
used (they go by lower(scim_user_name)), is gone

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 18:10:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

PARTIAL = ('activation_token_hash', 'external_id')


def upgrade() -> None:
    op.drop_index('ix_users_scim_user_name', table_name='users')
    for name in PARTIAL:
        op.drop_index(f'ix_users_{name}', table_name='users')
        where = sa.text(f'{name} IS NOT NULL')
        op.create_index(
            f'ix_users_{name}', 'users', [name], sqlite_where=where, postgresql_where=where
        )


def downgrade() -> None:
    for name in PARTIAL:
        op.drop_index(f'ix_users_{name}', table_name='users')
        op.create_index(f'ix_users_{name}', 'users', [name])
    op.create_index('ix_users_scim_user_name', 'users', ['scim_user_name'])
