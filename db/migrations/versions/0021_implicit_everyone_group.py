"""every user is in the group Iedereen without a stored membership: the group is marked, its
links go, and renaming it keeps it the group of everyone

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 15:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place (no batch rebuild): rebuilding groups on SQLite would cascade into the
    # memberships of every group.
    op.add_column(
        'groups', sa.Column('everyone', sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute("UPDATE groups SET everyone = true WHERE name = 'Iedereen'")
    op.execute(
        "INSERT INTO groups (name, created_at, everyone) SELECT 'Iedereen', CURRENT_TIMESTAMP, "
        "true WHERE NOT EXISTS (SELECT 1 FROM groups WHERE everyone)"
    )
    op.execute("DELETE FROM user_groups WHERE group_id IN (SELECT id FROM groups WHERE everyone)")


def downgrade() -> None:
    op.execute(
        "INSERT INTO user_groups (user_id, group_id) SELECT users.id, groups.id FROM users, "
        "groups WHERE groups.everyone"
    )
    op.execute("ALTER TABLE groups DROP COLUMN everyone")
