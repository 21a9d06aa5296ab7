"""django-import-export's documented bulk mode on the benchmark's CSV, as one whole process.

Usage:  python bench/django_import_export_run.py FILE.csv DATABASE.sqlite3
The comparison for `python cli.py import` in import_bench.py; it runs only where Django
and django-import-export are installed (they are not Instroom's dependencies). It imports
the same columns into one table keyed by email, with use_bulk and skip_unchanged, and
prints the rows it created and updated.
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
    "Groep": "group",
    "Personeelsnummer": "employee_id",
}


def main(csv_path: str, database: str) -> None:
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
    from import_export import resources

    class Person(models.Model):
        email = models.CharField(max_length=320, unique=True)
        first_name = models.CharField(max_length=200, blank=True)
        name_insert = models.CharField(max_length=50, blank=True)
        last_name = models.CharField(max_length=200, blank=True)
        phone = models.CharField(max_length=50, blank=True)
        department = models.CharField(max_length=200, blank=True)
        group = models.CharField(max_length=200, blank=True)
        employee_id = models.CharField(max_length=50, blank=True)

        class Meta:
            # Any installed app will do: the rows are copied by model label.
            app_label = "import_export"

    if "import_export_person" not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(Person)

    class PersonResource(resources.ModelResource):
        class Meta:
            model = Person
            import_id_fields = ("email",)
            fields = tuple(FIELDS.values())
            use_bulk = True
            batch_size = 1000
            skip_unchanged = True

    text = Path(csv_path).read_text(encoding="utf-8-sig")
    dataset = tablib.Dataset().load(text, format="csv", delimiter=";")
    dataset.headers = [FIELDS[h] for h in dataset.headers]
    result = PersonResource().import_data(dataset, dry_run=False, use_transactions=True)
    print(json.dumps({k.lower(): v for k, v in result.totals.items()}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
