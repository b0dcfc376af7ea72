"""Background work of the CRM: applying an import of people, which can take a while for a big file."""

from django.tasks import task

from hubtab.crm.imports import customer_import_run


@task()
def customer_import_task(*, hub_id: int, import_id: int, actor_id: int | None) -> dict[str, int]:
    return customer_import_run(hub_id=hub_id, import_id=import_id, actor_id=actor_id)
