"""the profile fields seeded on first start get Dutch labels, where nobody renamed them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# key: (the English label seeded before, the Dutch label seeded now)
LABELS = {
    'job_title': ('Job title', 'Functie'),
    'department': ('Department', 'Afdeling'),
    'phone': ('Phone', 'Telefoon'),
    'mobile': ('Mobile', 'Mobiel'),
    'initials': ('Initials', 'Voorletters'),
    'employee_id': ('Employee ID', 'Personeelsnummer'),
    'city': ('City', 'Woonplaats'),
}
FIELDS = sa.table('profile_fields', sa.column('key', sa.String), sa.column('label', sa.String))


def _relabel(old: int, new: int) -> None:
    for key, labels in LABELS.items():
        op.execute(
            FIELDS.update()
            .where(FIELDS.c.key == key, FIELDS.c.label == labels[old])
            .values(label=labels[new])
        )


def upgrade() -> None:
    _relabel(0, 1)


def downgrade() -> None:
    _relabel(1, 0)
