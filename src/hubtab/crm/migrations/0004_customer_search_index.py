"""Fill search_text for existing customers; on PostgreSQL, index it with trigrams (pg_trgm) so
that "contains" searches stay fast at hundreds of thousands of customers."""

from django.db import migrations


def search_text_fill(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    batch = []
    for customer in Customer._base_manager.all().iterator(chunk_size=2000):
        parts = (customer.first_name, customer.last_name, customer.email, customer.phone, customer.code)
        customer.search_text = " ".join(part.lower() for part in parts if part)
        batch.append(customer)
        if len(batch) == 2000:
            Customer._base_manager.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Customer._base_manager.bulk_update(batch, ["search_text"])


def trigram_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite scans; it serves the demo and small single hubs
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS customer_search_trgm ON crm_customer USING gin (search_text gin_trgm_ops)"
    )


def trigram_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_customer_search_text")]

    operations = [
        migrations.RunPython(search_text_fill, migrations.RunPython.noop),
        migrations.RunPython(trigram_index_create, trigram_index_drop),
    ]
