from __future__ import annotations

from django.db import connection, transaction
from django.utils.translation import gettext as _

from clients.errors import ClientHierarchyError
from clients.models import Client

# One lock for every change to the group hierarchy: two concurrent moves (A under B, B under A)
# would each pass the cycle check alone and make a cycle together.
HIERARCHY_LOCK = 0x636C_6965  # "clie"

ANCESTORS_SQL = """
WITH RECURSIVE ancestors(id, parent_id) AS (
    SELECT id, parent_id FROM clients_client WHERE id = %s
    UNION ALL
    SELECT c.id, c.parent_id FROM clients_client c JOIN ancestors a ON c.id = a.parent_id
)
SELECT EXISTS (SELECT 1 FROM ancestors WHERE id = %s)
"""


def client_set_parent(*, client: Client, parent: Client | None) -> Client:
    """Move `client` under `parent` (or make it a group head), refusing any cycle."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HIERARCHY_LOCK])
            if parent is not None:
                # `client` may not be `parent` itself or any of its ancestors.
                cursor.execute(ANCESTORS_SQL, [parent.pk, client.pk])
                if cursor.fetchone()[0]:
                    raise ClientHierarchyError(
                        _("%(client)s cannot belong to %(parent)s: it would be its own parent.")
                        % {"client": client, "parent": parent}
                    )
        Client.objects.filter(pk=client.pk).update(parent=parent)
        client.parent = parent
    return client
