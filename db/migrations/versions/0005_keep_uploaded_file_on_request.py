"""keep uploaded file on request

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:14:33.142980
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keep_file_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('keep_file_until')

