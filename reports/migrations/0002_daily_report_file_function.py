"""The PostgreSQL function that files a daily report on time in one round trip
(reports/filing.py). Nothing on other databases: they take the portable path.

A new content field of DailyReport, or a new column of SalesEntry without a default, needs a
migration that replaces this function: tests/reports/test_filing.py files the same requests
through the function and through the ORM and compares what is stored."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION reports_daily_report_file(
    p_organization bigint, p_member bigint, p_region bigint, p_date date, p_now timestamptz,
    p_followups integer, p_communication_minutes integer, p_new_customers integer,
    p_lost_customers integer, p_orders integer, p_summary text, p_plan_tomorrow text,
    p_problems text,
    p_products bigint[], p_customers bigint[], p_quantities integer[], p_amounts numeric[],
    p_collected numeric[], p_profits numeric[],
    OUT report_id bigint, OUT created boolean, OUT submitted_at timestamptz,
    OUT is_late boolean, OUT unlocked_by_id bigint, OUT unlocked_at timestamptz,
    OUT line_ids bigint[]
) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    -- Files the report or replaces its counts and texts (a replacement keeps the first
    -- filing's submitted_at, is_late and unlock), and holds the row's lock until the commit:
    -- a second filing of the same report waits here. xmax is 0 in a row version an INSERT
    -- made.
    INSERT INTO reports_dailyreport AS r (
        organization_id, member_id, date, followups, communication_minutes, new_customers,
        lost_customers, orders, summary, plan_tomorrow, problems, updated_at, submitted_at,
        is_late)
    VALUES (p_organization, p_member, p_date, p_followups, p_communication_minutes,
            p_new_customers, p_lost_customers, p_orders, p_summary, p_plan_tomorrow, p_problems,
            p_now, p_now, false)
    ON CONFLICT (organization_id, member_id, date) DO UPDATE SET
        followups = EXCLUDED.followups,
        communication_minutes = EXCLUDED.communication_minutes,
        new_customers = EXCLUDED.new_customers,
        lost_customers = EXCLUDED.lost_customers,
        orders = EXCLUDED.orders,
        summary = EXCLUDED.summary,
        plan_tomorrow = EXCLUDED.plan_tomorrow,
        problems = EXCLUDED.problems,
        updated_at = EXCLUDED.updated_at
    RETURNING r.id, (r.xmax = 0), r.submitted_at, r.is_late, r.unlocked_by_id, r.unlocked_at
    INTO report_id, created, submitted_at, is_late, unlocked_by_id, unlocked_at;

    -- A VOLATILE function's statements each take a new snapshot (READ COMMITTED): this one's
    -- is taken after the lock above was granted, so the lines of a filing that held the lock
    -- before are committed, seen and replaced, never doubled.
    DELETE FROM reports_salesentry AS s
    WHERE s.organization_id = p_organization AND s.daily_report_id = report_id;

    -- The identity hands out ids in the order rows are inserted (ORDER BY v.n): sorted, they
    -- are the lines' ids in the order given.
    WITH inserted AS (
        INSERT INTO reports_salesentry (
            organization_id, date, member_id, product_id, customer_id, region_id, quantity,
            amount, collected, profit, source, daily_report_id, recorded_by_id, created_at)
        SELECT p_organization, p_date, p_member, v.product, v.customer, p_region, v.quantity,
               v.amount, v.collected, v.profit, 'report', report_id, p_member, p_now
        FROM unnest(p_products, p_customers, p_quantities, p_amounts, p_collected, p_profits)
             WITH ORDINALITY AS v(product, customer, quantity, amount, collected, profit, n)
        ORDER BY v.n
        RETURNING id
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO line_ids FROM inserted;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS reports_daily_report_file(
    bigint, bigint, bigint, date, timestamptz, integer, integer, integer, integer, integer,
    text, text, text, bigint[], bigint[], integer[], numeric[], numeric[], numeric[]);
"""


def _on_postgresql(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [
        migrations.RunPython(_on_postgresql(FUNCTION), _on_postgresql(DROP), elidable=False),
    ]
