"""The admin dashboard pages. Thin: resolve the organization the user administers, read the
query parameters, call console.selectors.admin_dashboard, draw the charts."""

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from agents.admin_base import admin_actor
from agents.models import Membership, MemberStatus, Organization, Role
from plans.models import Pace
from reports.metrics import METRICS

from . import charts
from .formatting import percent, value_formatter
from .forms import DashboardQueryForm
from .selectors import (
    AdminDashboard,
    admin_dashboard,
    dashboard_plans,
    dashboard_scope,
    default_plan,
    plan_target,
)

# Who has a dashboard: owners and admins of the whole organization, leaders of their subtree
# (console.selectors.dashboard_scope). Agents have the app's morning view instead.
DASHBOARD_ROLES = (Role.OWNER, Role.ADMIN, Role.LEADER)


def _is_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def _dashboard_memberships(request):
    return Membership.objects.filter(
        user=request.user, role__in=DASHBOARD_ROLES, organization__is_active=True
    ).exclude(status=MemberStatus.LEFT)


def administered_organizations(request):
    """The organizations the user may open a dashboard for: every active one for a superuser,
    else those where they are an owner, admin or leader (staff status is asked by the admin)."""
    organizations = Organization.objects.filter(is_active=True).order_by("name", "pk")
    if _is_superuser(request):
        return organizations
    return organizations.filter(pk__in=_dashboard_memberships(request).values("organization_id"))


def dashboard_viewer(request, organization: Organization) -> Membership:
    """Whose scope the dashboard shows: the admin's actor for a superuser, else the user's own
    owner, admin or leader membership there."""
    if _is_superuser(request):
        return admin_actor(request, organization)
    return _dashboard_memberships(request).select_related("user").get(organization=organization)


def _dashboard_choose(request):
    organizations = list(administered_organizations(request))
    if len(organizations) == 1:
        return redirect("console:dashboard", slug=organizations[0].slug)
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "organizations": organizations,
    }
    return render(request, "console/choose.html", context)


def _target_label(target) -> str:
    for part in ("member", "region", "product", "customer"):
        related = getattr(target, part)
        if related is not None:
            return related.display_name if part == "member" else related.name
    return _("Whole organization")


def _share(part, whole) -> str:
    """part / whole as a CSS percentage between 0 and 100."""
    if not whole or whole <= 0:
        return "0"
    return f"{max(min(float(part) / float(whole) * 100, 100.0), 0.0):.1f}"


def _sales_link(board: AdminDashboard, group_by: str, key) -> str:
    """The sales changelist narrowed to one region (with its sub-regions, as attainment counts
    them) or product, over the plan's period up to today."""
    query = {
        "region_tree" if group_by == "regions" else "product__id__exact": key,
        "date__gte": board.plan.start.isoformat(),
        "date__lte": min(board.plan.end, board.today).isoformat(),
    }
    return f"{reverse('admin:reports_salesentry_changelist')}?{urlencode(query)}"


def _charts(board: AdminDashboard, *, links: bool = False) -> dict:
    """The SVG of each chart that has something to draw (an empty dict entry: its empty state).
    `links`: the region and product bars of a sales metric lead to the sales changelist."""
    drawn = {}
    if board.grades is not None:
        drawn["grades"] = mark_safe(  # noqa: S308 - charts.py escapes every text
            charts.histogram(board.grades.bins, label=_("Grades of the latest appraisal cycle"))
        )
    if board.metric is None:
        return drawn
    metric = METRICS[board.metric]
    currency = board.organization.currency
    fmt = value_formatter(metric, currency)
    axis = value_formatter(metric, currency, axis=True)

    for group_by, title in (
        ("regions", _("Attainment by region")),
        ("products", _("Attainment by product")),
        ("team", _("Attainment of your team")),
    ):
        rows = getattr(board, group_by)
        if rows:
            bars = [
                charts.Bar(
                    label=row.label,
                    value=row.actual,
                    target=row.target,
                    note=percent(row.attainment),
                    href=_sales_link(board, group_by, row.key)
                    if links and metric.source == "sales" and group_by != "team"
                    else "",
                )
                for row in rows
            ]
            drawn[group_by] = mark_safe(  # noqa: S308 - charts.py escapes every text
                charts.bar_chart(
                    bars,
                    label=f"{title} · {metric.label}",
                    fmt=fmt,
                    target_label=_("Target"),
                    axis_fmt=axis,
                )
            )
    if board.progress is not None:
        points = [
            charts.LinePoint(
                date=day.date,
                target=day.cumulative_target if metric.additive else day.target,
                actual=day.cumulative_actual if metric.additive else day.actual,
            )
            for day in board.progress.daily
        ]
        drawn["progress"] = mark_safe(  # noqa: S308 - charts.py escapes every text
            charts.line_chart(
                points,
                label=_("Daily cumulative actual against target")
                if metric.additive
                else _("Daily actual against target"),
                fmt=fmt,
                axis_fmt=axis,
                target_label=_("Target (decomposed)"),
                actual_label=_("Actual"),
                today=board.progress.as_of,
                today_label=_("Today"),
            )
        )
    return drawn


def _dashboard(request, slug: str):
    organization = administered_organizations(request).filter(slug=slug).first()
    if organization is None:
        raise Http404(_("No such organization."))
    viewer = dashboard_viewer(request, organization)
    plans = dashboard_plans(organization=organization)
    form = DashboardQueryForm(request.GET or None, plans=plans)
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "organization": organization,
        "viewer": viewer,
        "form": form,
        "several": administered_organizations(request).count() > 1,
    }
    if request.GET and not form.is_valid():
        return render(request, "console/dashboard.html", context, status=400)
    data = form.cleaned_data if request.GET else {}
    plan = form.chosen_plan() if request.GET else None
    target = None
    if data.get("target"):
        chosen = plan or default_plan(plans, today=organization.local_today())
        if chosen is not None:
            target = plan_target(
                organization=organization,
                plan=chosen,
                target_id=data["target"],
                targets=dashboard_scope(organization=organization, viewer=viewer),
            )
        if target is None:
            form.add_error("target", _("Choose a target of the plan shown."))
            return render(request, "console/dashboard.html", context, status=400)
    board = admin_dashboard(
        organization=organization,
        viewer=viewer,
        plan=plan,
        metric=data.get("metric") or None,
        target=target,
        plans=plans,
    )
    # The admin's changelists are for those who administer the organization.
    drill_down = viewer.is_manager
    metric = METRICS[board.metric] if board.metric else None
    fmt = value_formatter(metric, organization.currency) if metric else None
    context.update(
        board=board,
        metric=metric,
        charts=_charts(board, links=drill_down),
        drill_down=drill_down,
        metric_options=[(key, METRICS[key].label) for key in board.metrics],
        pace_cards=[
            {
                "label": _target_label(row.target),
                "metric": METRICS[row.target.metric].label,
                "actual": value_formatter(METRICS[row.target.metric], organization.currency)(
                    row.month_to_date_actual
                ),
                "expected": value_formatter(METRICS[row.target.metric], organization.currency)(
                    row.month_to_date_target
                ),
                "month": value_formatter(METRICS[row.target.metric], organization.currency)(
                    row.month_target
                ),
                # Month to date against the part of the month the plan expects by today (pace),
                # not against the whole target: said so, beside the line chart's ratio.
                "attainment": percent(row.attainment),
                "attainment_text": _("%(percent)s of expected to date")
                % {"percent": percent(row.attainment)},
                "done_width": _share(row.month_to_date_actual, row.month_target),
                "expected_at": _share(row.month_to_date_target, row.month_target),
                "pace": row.pace,
                "pace_label": Pace(row.pace).label,
            }
            for row in board.pace
        ],
        progress_summary=(
            {
                "actual": fmt(board.progress.actual),
                "value": fmt(board.progress.value),
                "expected": fmt(board.progress.expected_to_date),
                # The API's `attainment`: actual against the target's whole value.
                "attainment": percent(board.progress.attainment),
                "attainment_text": _("%(percent)s of the whole target")
                % {"percent": percent(board.progress.attainment)},
                "pace": board.progress.pace,
                "pace_label": Pace(board.progress.pace).label,
            }
            if board.progress is not None and fmt
            else None
        ),
    )
    return render(request, "console/dashboard.html", context)


# Staff only: anyone else (anonymous, or a member without staff status) gets the admin login.
dashboard_choose = admin.site.admin_view(_dashboard_choose)
dashboard = admin.site.admin_view(_dashboard)


# Every page of the site gets a favicon (browsers ask for /favicon.ico on their own: without one
# each admin page logs a 404 in the browser console). A small bar chart in the admin's colours.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#417690"/>'
    '<rect x="6" y="16" width="5" height="10" fill="#fff"/>'
    '<rect x="13.5" y="10" width="5" height="16" fill="#fff"/>'
    '<rect x="21" y="6" width="5" height="20" fill="#f5dd5d"/></svg>'
)


@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponse(FAVICON_SVG, content_type="image/svg+xml")
