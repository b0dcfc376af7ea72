"""Customers are found by their phone number however it is typed: the search text gains the
number's digits in international and national form (hubtab.crm.search)."""

from django.db import migrations


def search_text_rebuild(apps, schema_editor):
    from hubtab.crm.search import hub_region, search_text_of

    Customer = apps.get_model("crm", "Customer")
    changed = []
    for customer in Customer.objects.exclude(phone="").select_related("hub").iterator(chunk_size=2000):
        customer.search_text = search_text_of(
            first_name=customer.first_name, last_name=customer.last_name, email=customer.email,
            phone=customer.phone, code=customer.code, region=hub_region(customer.hub.timezone),
        )
        changed.append(customer)
        if len(changed) >= 2000:
            Customer.objects.bulk_update(changed, ["search_text"])
            changed = []
    Customer.objects.bulk_update(changed, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("crm", "0005_customer_active_by_name")]

    operations = [migrations.RunPython(search_text_rebuild, migrations.RunPython.noop)]
