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
    with op.batch_alter_table('scim_connections') as batch_op:
        batch_op.add_column(
            sa.Column('may_delete', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Lookups by a provider's userName or a username, whatever their case, use an index.
    op.create_index('ix_users_lower_username', 'users', [sa.text('lower(username)')])
    op.create_index('ix_users_lower_scim_user_name', 'users', [sa.text('lower(scim_user_name)')])


def downgrade() -> None:
    with op.batch_alter_table('scim_connections') as batch_op:
        batch_op.drop_column('may_delete')
    op.drop_index('ix_users_lower_scim_user_name', table_name='users')
    op.drop_index('ix_users_lower_username', table_name='users')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('scim_words')
        batch_op.drop_column('scim_removed_at')
