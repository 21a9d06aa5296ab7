"""issues keep their variant and parameters, to be written in the reader's language

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:20:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_issues', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'variant',
                sqlmodel.sql.sqltypes.AutoString(length=50),
                nullable=False,
                server_default='',
            )
        )
        # Issues stored before this keep their English text (params stay empty).
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('import_issues', schema=None) as batch_op:
        batch_op.drop_column('params')
        batch_op.drop_column('variant')
