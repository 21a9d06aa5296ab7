"""SCIM connections: identity providers that keep users and groups in step

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 12:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scim_connections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('token_created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('welcome_new', sa.Boolean(), nullable=False),
        sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('match_username', sa.Boolean(), nullable=False),
        sa.Column('own_groups_only', sa.Boolean(), nullable=False),
        sa.Column('may_deactivate', sa.Boolean(), nullable=False),
        sa.Column('profile_map', sa.JSON(), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    with op.batch_alter_table('scim_connections', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_scim_connections_token_hash'), ['token_hash'], unique=False
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column('scim_user_name', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True)
        )
        batch_op.create_index(batch_op.f('ix_users_external_id'), ['external_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_users_scim_user_name'), ['scim_user_name'], unique=False
        )
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scim_connection_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('day_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.create_index(batch_op.f('ix_import_jobs_day_key'), ['day_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_jobs_day_key'))
        batch_op.drop_column('day_key')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('external_id')
        batch_op.drop_column('scim_connection_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_scim_user_name'))
        batch_op.drop_index(batch_op.f('ix_users_external_id'))
        batch_op.drop_column('scim_user_name')
        batch_op.drop_column('external_id')
    op.drop_table('scim_connections')
