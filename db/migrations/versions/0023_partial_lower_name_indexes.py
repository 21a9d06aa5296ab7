"""a new user's insert skips the indexes of lowered usernames and provider userNames too:
most users have neither, and those indexes now hold only the users that do

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 20:25:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

NAMES = ('username', 'scim_user_name')


def upgrade() -> None:
    for name in NAMES:
        op.drop_index(f'ix_users_lower_{name}', table_name='users')
        where = sa.text(f'{name} IS NOT NULL')
        op.create_index(
            f'ix_users_lower_{name}',
            'users',
            [sa.text(f'lower({name})')],
            sqlite_where=where,
            postgresql_where=where,
        )


def downgrade() -> None:
    for name in NAMES:
        op.drop_index(f'ix_users_lower_{name}', table_name='users')
        op.create_index(f'ix_users_lower_{name}', 'users', [sa.text(f'lower({name})')])
