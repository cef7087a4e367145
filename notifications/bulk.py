"""The PostgreSQL fast path of `notify_many` (issue 7, bench/README.md): one statement per batch
inserts the inbox rows and, from what that insert returned, the e-mail deliveries.

`bulk_create(ignore_conflicts=True)` returns no ids, so the portable path (services.py) asks the
database first which keys exist, inserts, reads the inserted rows back by key, inserts the
deliveries with a claim and reads those back by claim. Here `INSERT ... ON CONFLICT DO NOTHING
RETURNING` does all of it: a key that exists already is skipped by the unique constraint itself
(which also settles two runs racing), and exactly the rows inserted now get a delivery. The
values travel as one array per column (`unnest`), so the statement's size does not depend on the
number of rows' SQL text, and no model instance is built.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from .models import Channel, Delivery, DeliveryStatus, Notification


@dataclass(frozen=True)
class InboxRow:
    recipient_id: int
    title: str
    body: str
    link: str
    dedupe_key: str
    mailable: bool


def supported() -> bool:
    return connection.vendor == "postgresql"


def insert_inbox_and_mail(
    *, organization_id: int, kind: str, rows: Sequence[InboxRow], now, with_email: bool
) -> tuple[int, list[int]]:
    """Insert the notifications whose key is new in the organization, and an e-mail delivery
    for each of those whose row is `mailable` (when `with_email`). Returns (notifications
    inserted, ids of the deliveries inserted). One statement."""
    if not rows:
        return 0, []
    qn = connection.ops.quote_name
    notification = qn(Notification._meta.db_table)
    delivery = qn(Delivery._meta.db_table)
    mailable = [row.recipient_id for row in rows if row.mailable] if with_email else []
    statement = f"""
        WITH new AS (
            INSERT INTO {notification}
                (organization_id, recipient_id, kind, title, body, link, dedupe_key, created_at,
                 read_at)
            SELECT %(org)s, v.recipient, %(kind)s, v.title, v.body, v.link, v.dedupe_key,
                   %(now)s, NULL
            FROM unnest(%(recipients)s::bigint[], %(titles)s::text[], %(bodies)s::text[],
                        %(links)s::text[], %(keys)s::text[])
                 AS v(recipient, title, body, link, dedupe_key)
            ON CONFLICT (organization_id, dedupe_key) DO NOTHING
            RETURNING id, recipient_id, dedupe_key
        ), mail AS (
            INSERT INTO {delivery}
                (organization_id, notification_id, channel, dedupe_key, content, status,
                 attempts, last_error, next_attempt_at, claim, sent_at, created_at)
            SELECT %(org)s, new.id, %(email)s, new.dedupe_key, '', %(pending)s, 0, '', %(now)s,
                   NULL, NULL, %(now)s
            FROM new WHERE new.recipient_id = ANY(%(mailable)s::bigint[])
            ON CONFLICT (organization_id, channel, dedupe_key) DO NOTHING
            RETURNING id
        )
        SELECT (SELECT count(*) FROM new), (SELECT array_agg(id ORDER BY id) FROM mail)
    """  # noqa: S608 - table names from the models, values as parameters
    params = {
        "org": organization_id,
        "kind": kind,
        "now": now,
        "recipients": [row.recipient_id for row in rows],
        "titles": [row.title for row in rows],
        "bodies": [row.body for row in rows],
        "links": [row.link for row in rows],
        "keys": [row.dedupe_key for row in rows],
        "email": Channel.EMAIL.value,
        "pending": DeliveryStatus.PENDING.value,
        "mailable": mailable,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        created, email_ids = cursor.fetchone()
    return created, list(email_ids or [])
