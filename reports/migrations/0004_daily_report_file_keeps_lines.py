"""`reports_daily_report_file` (migration 0002) keeps a report's sales lines when it is filed
again: the n-th line sent updates the n-th stored line (in id order), and only when it differs;
lines beyond the stored ones are inserted, stored lines beyond those sent are deleted. A line
keeps its id (the `sales/` list and the report's `lines` show the same ids after an edit) and
its `created_at`.

Replacing every line at every PUT also cost the database most of the PUT's work: three deletes,
three inserts into a table with thirteen indexes, and at the commit twenty-one deferred
foreign-key checks (seven references a line), each locking its referenced row. An update that
changes no reference and no indexed column checks nothing and is a HOT update (bench/README.md,
seventh round). services.daily_report_upsert's portable path pairs the lines the same way, and
tests/reports/test_filing.py compares what both store.

The stored lines are read `FOR NO KEY UPDATE`: a line deleted or changed by someone else (the
admin) after it was read cannot make an update miss it, and the ids answered are the lines
stored."""

import importlib

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
DECLARE
    v_count integer := coalesce(array_length(p_products, 1), 0);
    v_i integer := 0;
    v_line record;
    v_gone bigint[] := '{}';
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

    line_ids := '{}';
    IF NOT created THEN
        -- A VOLATILE function's statements each take a new snapshot (READ COMMITTED): this
        -- one's is taken after the report's lock was granted, so the lines of a filing that
        -- held the lock before are committed and seen: paired, never doubled.
        FOR v_line IN
            SELECT s.id, s.product_id, s.customer_id, s.region_id, s.quantity, s.amount,
                   s.collected, s.profit
            FROM reports_salesentry AS s
            WHERE s.organization_id = p_organization AND s.daily_report_id = report_id
            ORDER BY s.id
            FOR NO KEY UPDATE
        LOOP
            v_i := v_i + 1;
            IF v_i > v_count THEN
                v_gone := v_gone || v_line.id;
            ELSE
                IF (v_line.product_id, v_line.customer_id, v_line.region_id, v_line.quantity,
                    v_line.amount, v_line.collected, v_line.profit)
                   IS DISTINCT FROM
                   (p_products[v_i], p_customers[v_i], p_region, p_quantities[v_i],
                    p_amounts[v_i], p_collected[v_i], p_profits[v_i])
                THEN
                    UPDATE reports_salesentry AS s SET
                        product_id = p_products[v_i], customer_id = p_customers[v_i],
                        region_id = p_region, quantity = p_quantities[v_i],
                        amount = p_amounts[v_i], collected = p_collected[v_i],
                        profit = p_profits[v_i]
                    WHERE s.id = v_line.id;
                END IF;
                line_ids := line_ids || v_line.id;
            END IF;
        END LOOP;
        IF v_gone <> '{}' THEN
            DELETE FROM reports_salesentry AS s WHERE s.id = ANY (v_gone);
        END IF;
    END IF;

    -- The lines beyond those kept. The identity hands out ids in the order rows are inserted
    -- (ORDER BY v.n): sorted, they are the lines' ids in the order given, after the kept ones.
    IF v_i < v_count THEN
        WITH inserted AS (
            INSERT INTO reports_salesentry (
                organization_id, date, member_id, product_id, customer_id, region_id,
                quantity, amount, collected, profit, source, daily_report_id, recorded_by_id,
                created_at)
            SELECT p_organization, p_date, p_member, v.product, v.customer, p_region,
                   v.quantity, v.amount, v.collected, v.profit, 'report', report_id, p_member,
                   p_now
            FROM unnest(p_products[v_i + 1 :], p_customers[v_i + 1 :],
                        p_quantities[v_i + 1 :], p_amounts[v_i + 1 :],
                        p_collected[v_i + 1 :], p_profits[v_i + 1 :])
                 WITH ORDINALITY AS v(product, customer, quantity, amount, collected, profit, n)
            ORDER BY v.n
            RETURNING id
        )
        SELECT line_ids || coalesce(array_agg(id ORDER BY id), '{}') INTO line_ids
        FROM inserted;
    END IF;
END
$$;
"""


def _replacing(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def _replaced(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        earlier = importlib.import_module("reports.migrations.0002_daily_report_file_function")
        schema_editor.execute(earlier.FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_daily_report_file_checked_function")]

    operations = [migrations.RunPython(_replacing, _replaced, elidable=False)]
