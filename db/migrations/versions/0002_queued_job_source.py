"""queued job source

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:10:59.809778
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_data', sa.LargeBinary(), nullable=True))
        # Jobs recorded before this revision get an empty object.
        batch_op.add_column(sa.Column('read_options', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('corrections', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('heartbeat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('corrections')
        batch_op.drop_column('read_options')
        batch_op.drop_column('source_data')

