"""The database cache table (settings.CACHES): login rate-limit counters shared by every web process."""

from django.core.management import call_command
from django.db import migrations


def cache_table_create(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_auditevent_invitation")]

    operations = [migrations.RunPython(cache_table_create, migrations.RunPython.noop)]
