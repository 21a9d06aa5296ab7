"""rejected rows kept with the job

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 13:21:15.585497
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejected', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))



def downgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('rejected')

