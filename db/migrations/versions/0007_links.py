"""links: scheduled imports from a folder, SFTP or HTTPS source, and their runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:10:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('header', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('host_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('move_done', sa.Boolean(), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('read_options', sa.JSON(), nullable=False),
        sa.Column('schedule', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('next_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('pause_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('failures_in_row', sa.Integer(), nullable=False),
        sa.Column('last_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('notify', sa.JSON(), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index(op.f('ix_links_next_run_at'), 'links', ['next_run_at'], unique=False)
    op.create_table(
        'link_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(['job_id'], ['import_jobs.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['link_id'], ['links.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_link_runs_link_id'), 'link_runs', ['link_id'], unique=False)
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_column('body')
    op.drop_index(op.f('ix_link_runs_link_id'), table_name='link_runs')
    op.drop_table('link_runs')
    op.drop_index(op.f('ix_links_next_run_at'), table_name='links')
    op.drop_table('links')
