"""django-import-export on the benchmark's CSV, as one whole process, in either of its modes.

Usage:  python bench/django_import_export_run.py FILE.csv DATABASE.sqlite3 [default|bulk]
The comparison for `python cli.py import` in import_bench.py; it runs only where Django
and django-import-export are installed (they are not Instroom's dependencies). It imports
the same columns keyed by email, with skip_unchanged, and the groups ("A~B") as a real
many-to-many field through ManyToManyWidget, as DIE's documentation shows; groups a row
names that do not exist yet are created first, as `cli.py import --create-groups` does.
The default mode saves row by row and stores the group links; the bulk mode (use_bulk)
is faster but, by DIE's own design, stores no many-to-many links at all (save_m2m is
skipped), so it does less work than Instroom. It prints the rows created and updated and
the number of group links stored.
"""

import json
import sys
from pathlib import Path

# The benchmark file's headers, and the model fields they fill.
FIELDS = {
    "E-mailadres": "email",
    "Voornaam": "first_name",
    "Tussenvoegsel": "name_insert",
    "Achternaam": "last_name",
    "Telefoon": "phone",
    "Afdeling": "department",
    "Groep": "groups",
    "Personeelsnummer": "employee_id",
}
SEPARATOR = "~"


def main(csv_path: str, database: str, mode: str = "bulk") -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "import_export"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": database}},
        USE_TZ=True,
    )
    django.setup()
    import tablib
    from django.db import connection, models
    from import_export import fields, resources, widgets

    class Group(models.Model):
        name = models.CharField(max_length=200, unique=True)

        class Meta:
            # Any installed app will do: the rows are copied by model label.
            app_label = "import_export"

    class Person(models.Model):
        email = models.CharField(max_length=320, unique=True)
        first_name = models.CharField(max_length=200, blank=True)
        name_insert = models.CharField(max_length=50, blank=True)
        last_name = models.CharField(max_length=200, blank=True)
        phone = models.CharField(max_length=50, blank=True)
        department = models.CharField(max_length=200, blank=True)
        groups = models.ManyToManyField(Group)
        employee_id = models.CharField(max_length=50, blank=True)

        class Meta:
            app_label = "import_export"

    if "import_export_person" not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(Group)
            editor.create_model(Person)

    class PersonResource(resources.ModelResource):
        groups = fields.Field(
            attribute="groups",
            column_name="groups",
            widget=widgets.ManyToManyWidget(Group, field="name", separator=SEPARATOR),
        )

        def before_import(self, dataset: tablib.Dataset, **kwargs: object) -> None:
            names = {n for cell in dataset["groups"] for n in cell.split(SEPARATOR) if n}
            Group.objects.bulk_create([Group(name=n) for n in names], ignore_conflicts=True)

        class Meta:
            model = Person
            import_id_fields = ("email",)
            fields = tuple(FIELDS.values())
            use_bulk = mode == "bulk"
            batch_size = 1000
            skip_unchanged = True

    text = Path(csv_path).read_text(encoding="utf-8-sig")
    dataset = tablib.Dataset().load(text, format="csv", delimiter=";")
    dataset.headers = [FIELDS[h] for h in dataset.headers]
    result = PersonResource().import_data(dataset, dry_run=False, use_transactions=True)
    totals = {k.lower(): v for k, v in result.totals.items()}
    print(json.dumps(totals | {"group_links": Person.groups.through.objects.count()}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
