"""The PostgreSQL function behind the daily-report PUT's fast path (reports/api/fast_put.py):
`reports_daily_report_file_checked` checks the lines' products and customers and works out their
profits, then files the report through `reports_daily_report_file` (migration 0002), all in one
round trip. Nothing on other databases: they take the portable path.

It checks what services.daily_report_upsert checks against the database, with the same rules:
- a line's product is a product of the organization, active or already on the member's report
  of the day (daily_report_kept_products);
- its customer, when given, is a customer of the organization that the member may refer to:
  every one for owners and admins, else those owned by the member or their downline
  (customer_is_visible_to; a member's path is a prefix of their downline's);
- its profit, the amount less the quantity at the product's cost (_line_profit), is below the
  money limit.
When one does not hold it writes nothing and answers `refused`; the caller then answers through
the portable path, which names the field. tests/reports/test_fast_put.py files the same requests
both ways and compares what is stored and answered."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION reports_daily_report_file_checked(
    p_organization bigint, p_member bigint, p_region bigint, p_date date, p_now timestamptz,
    p_manager boolean, p_path text, p_money_limit numeric,
    p_followups integer, p_communication_minutes integer, p_new_customers integer,
    p_lost_customers integer, p_orders integer, p_summary text, p_plan_tomorrow text,
    p_problems text,
    p_products bigint[], p_customers bigint[], p_quantities integer[], p_amounts numeric[],
    p_collected numeric[],
    OUT refused boolean, OUT report_id bigint, OUT created boolean,
    OUT submitted_at timestamptz, OUT is_late boolean, OUT unlocked_by_id bigint,
    OUT unlocked_at timestamptz, OUT line_ids bigint[], OUT profits numeric[]
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    i integer;
    v_active boolean;
    v_cost numeric;
    v_owner bigint;
BEGIN
    -- Line by line, one primary-key lookup each: simple statements whose cached plans serve
    -- every call (a join with the arrays was planned anew at every call, which cost more than
    -- the lookups). Any line that does not pass refuses the whole filing, writing nothing.
    refused := true;
    profits := '{}';
    FOR i IN 1 .. coalesce(array_length(p_products, 1), 0) LOOP
        -- The product: of the organization, active or kept (on the member's report of the
        -- day), and a profit below the limit.
        SELECT p.is_active, p.cost INTO v_active, v_cost
        FROM agents_product AS p
        WHERE p.id = p_products[i] AND p.organization_id = p_organization;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        IF NOT v_active AND NOT EXISTS (
            SELECT 1 FROM reports_salesentry AS s
            WHERE s.organization_id = p_organization AND s.member_id = p_member
              AND s.date = p_date AND s.source = 'report' AND s.product_id = p_products[i]
        ) THEN
            RETURN;
        END IF;
        profits := profits || (p_amounts[i] - p_quantities[i] * v_cost);
        IF abs(profits[i]) >= p_money_limit THEN
            RETURN;
        END IF;
        -- The customer: of the organization; every one for a manager, else owned by the
        -- member or their downline.
        IF p_customers[i] IS NOT NULL THEN
            SELECT c.owner_id INTO v_owner
            FROM agents_customer AS c
            WHERE c.id = p_customers[i] AND c.organization_id = p_organization;
            IF NOT FOUND THEN
                RETURN;
            END IF;
            IF NOT p_manager AND v_owner IS DISTINCT FROM p_member AND NOT coalesce(
                (SELECT starts_with(o.path, p_path) FROM agents_membership AS o
                 WHERE o.id = v_owner), false)
            THEN
                RETURN;
            END IF;
        END IF;
    END LOOP;
    refused := false;

    SELECT f.report_id, f.created, f.submitted_at, f.is_late, f.unlocked_by_id, f.unlocked_at,
           f.line_ids
    INTO report_id, created, submitted_at, is_late, unlocked_by_id, unlocked_at, line_ids
    FROM reports_daily_report_file(
        p_organization => p_organization, p_member => p_member, p_region => p_region,
        p_date => p_date, p_now => p_now, p_followups => p_followups,
        p_communication_minutes => p_communication_minutes,
        p_new_customers => p_new_customers, p_lost_customers => p_lost_customers,
        p_orders => p_orders, p_summary => p_summary, p_plan_tomorrow => p_plan_tomorrow,
        p_problems => p_problems, p_products => p_products, p_customers => p_customers,
        p_quantities => p_quantities, p_amounts => p_amounts, p_collected => p_collected,
        p_profits => profits) AS f;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS reports_daily_report_file_checked(
    bigint, bigint, bigint, date, timestamptz, boolean, text, numeric, integer, integer, integer,
    integer, integer, text, text, text, bigint[], bigint[], integer[], numeric[], numeric[]);
"""


def _on_postgresql(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_daily_report_file_function")]

    operations = [
        migrations.RunPython(_on_postgresql(FUNCTION), _on_postgresql(DROP), elidable=False),
    ]
