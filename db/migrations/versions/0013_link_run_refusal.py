"""a link's run keeps its refusal as code and parameters, to be read in any language

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('link_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refusal', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('link_runs', schema=None) as batch_op:
        batch_op.drop_column('refusal')
