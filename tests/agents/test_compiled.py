"""agents.compiled: a queryset compiled once answers as the queryset does."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, Max
from django.test.utils import CaptureQueriesContext

from agents.compiled import CompiledQuery, CompiledQueryError, CompiledValues, LikePrefix
from agents.models import Membership, MemberStatus, Organization, Region
from agents.selectors import _membership_of_user, membership_for_user
from tests.agents.factories import RegionFactory

pytestmark = pytest.mark.django_db


def _same(a: Membership | None, b: Membership | None) -> bool:
    if a is None or b is None:
        return a is b
    return (
        a.pk == b.pk
        and a.__dict__.keys() >= {"role", "status", "path"}
        and all(getattr(a, f.attname) == getattr(b, f.attname) for f in Membership._meta.fields)
        and a.organization.policies == b.organization.policies
        and a.organization.calendar_token == b.organization.calendar_token
        and a.user.password == b.user.password
    )


@pytest.mark.parametrize("persona", ["owner", "agent", "sub_agent", "outsider"])
@pytest.mark.parametrize("slug", ["acme", "rival", "nowhere"])
def test_the_membership_lookup_answers_as_the_queryset(world, persona, slug):
    world.org.policies = {"report_unlock_hours": 12, "nested": {"a": [1, 2]}}
    world.org.save(update_fields=["policies"])
    user = world.member(persona).user
    expected = _membership_of_user(user_id=user.pk, org_slug=slug).first()
    got = membership_for_user(user=user, org_slug=slug)
    assert _same(got, expected)


def test_the_lookup_reads_one_row_with_its_organization_and_user(world):
    with CaptureQueriesContext(connection) as queries:
        member = membership_for_user(user=world.agent.user, org_slug="acme")
        assert member.organization.slug == "acme"
        assert member.user.username == "agent"
        assert member.organization.policies == world.org.policies  # JSON decoded
    assert len(queries) == 1


def test_members_who_left_and_inactive_organizations_are_not_found(world):
    world.agent.status = MemberStatus.LEFT
    world.agent.save(update_fields=["status"])
    assert membership_for_user(user=world.agent.user, org_slug="acme") is None
    Organization.objects.filter(pk=world.org.pk).update(is_active=False)
    assert membership_for_user(user=world.owner.user, org_slug="acme") is None


def test_the_values_are_parameters_not_sql(world):
    """A slug that looks like SQL is a value like any other."""
    assert membership_for_user(user=world.agent.user, org_slug="acme' OR '1'='1") is None


def test_a_parameter_the_queryset_transforms_is_refused():
    query = CompiledQuery(
        lambda prefix: Membership.objects.filter(path__startswith=prefix), kinds={"prefix": str}
    )
    with pytest.raises(CompiledQueryError):
        query.all(prefix="/1/")


def test_values_must_have_the_declared_kind(world):
    query = CompiledQuery(
        lambda pk: Membership.objects.filter(pk=pk).order_by("pk"), kinds={"pk": int}
    )
    assert [m.pk for m in query.all(pk=world.agent.pk)] == [world.agent.pk]
    with pytest.raises(TypeError):
        query.all(pk=str(world.agent.pk))
    with pytest.raises(TypeError):
        query.all(pk=True)
    with pytest.raises(TypeError):
        query.all()


def test_values_and_prefetches_are_refused():
    with pytest.raises(CompiledQueryError):
        CompiledQuery(
            lambda pk: Membership.objects.filter(pk=pk).values("pk"), kinds={"pk": int}
        ).all(pk=1)
    with pytest.raises(CompiledQueryError):
        CompiledQuery(
            lambda pk: Membership.objects.filter(pk=pk).prefetch_related("downline"),
            kinds={"pk": int},
        ).all(pk=1)


@pytest.mark.parametrize("count", [0, 1, 3, 70])
def test_list_parameters_compile_per_length(world, count):
    from agents.models import Product
    from tests.agents.factories import ProductFactory

    products = [ProductFactory(organization=world.org) for _ in range(3)]
    foreign = ProductFactory(organization=world.rival)
    query = CompiledQuery(
        lambda org, ids: Product.objects.filter(organization_id=org, pk__in=ids).order_by("pk"),
        kinds={"org": int, "ids": list},
    )
    ids = ([p.pk for p in products] + [foreign.pk, 10**9] * 40)[:count]
    expected = list(Product.objects.filter(organization=world.org, pk__in=ids).order_by("pk"))
    got = query.all(org=world.org.pk, ids=ids)
    assert [(p.pk, p.name, p.price) for p in got] == [(p.pk, p.name, p.price) for p in expected]
    assert query.all(org=world.org.pk, ids=ids + ids[:1]) == got  # duplicates: the same rows
    with pytest.raises(TypeError):
        query.all(org=world.org.pk, ids=["1"])


def test_sales_references_keep_the_customer_scope(world):
    from reports.selectors import sales_references
    from tests.agents.factories import CustomerFactory

    own = CustomerFactory(organization=world.org, owner=world.agent)
    downline = CustomerFactory(organization=world.org, owner=world.sub_agent)
    sideways = CustomerFactory(organization=world.org, owner=world.other_agent)
    unowned = CustomerFactory(organization=world.org, owner=None)
    foreign = CustomerFactory(organization=world.rival, owner=world.outsider)
    ids = {own.pk, downline.pk, sideways.pk, unowned.pk, foreign.pk}
    _, seen = sales_references(
        organization=world.org, member=world.agent, product_ids=set(), customer_ids=ids
    )
    assert set(seen) == {own.pk, downline.pk}
    _, seen = sales_references(
        organization=world.org, member=world.admin, product_ids=set(), customer_ids=ids
    )
    assert set(seen) == {own.pk, downline.pk, sideways.pk, unowned.pk}


def test_date_parameters_and_row_locks(world):
    import datetime as dt

    from reports.models import DailyReport
    from reports.services import _LOCKED_REPORT

    day = dt.date(2026, 3, 2)
    now = dt.datetime.now(dt.UTC)
    report = DailyReport.objects.create(
        organization=world.org, member=world.agent, date=day, submitted_at=now, updated_at=now
    )
    from django.db import transaction

    with transaction.atomic():
        got = _LOCKED_REPORT.first(organization_id=world.org.pk, member_id=world.agent.pk, day=day)
        assert got.pk == report.pk and got.date == day
        assert (
            _LOCKED_REPORT.first(
                organization_id=world.org.pk, member_id=world.agent.pk, day=day.replace(day=3)
            )
            is None
        )
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in next(iter(_LOCKED_REPORT._local.compiled.values())).sql


def test_report_lines_are_deleted_without_a_collector_only_while_that_is_safe():
    """reports.services._report_lines_keep deletes lines without QuerySet.delete's Collector:
    right only while nothing refers to a sales line and no signal watches their deletion."""
    from django.db.models.deletion import Collector

    from reports.models import SalesEntry

    assert Collector(using="default", origin=None).can_fast_delete(SalesEntry.objects.all())


def test_any_of_matches_in(world):
    from agents.models import Product
    from tests.agents.factories import ProductFactory

    products = [ProductFactory(organization=world.org) for _ in range(4)]
    ids = [products[0].pk, products[2].pk, products[2].pk, 10**9]
    expected = list(Product.objects.filter(pk__in=ids).order_by("pk"))
    assert list(Product.objects.filter(pk__any_of=ids).order_by("pk")) == expected
    assert list(Product.objects.filter(organization_id__any_of=[world.org.pk])) == list(
        Product.objects.filter(organization=world.org)
    )
    assert list(Product.objects.filter(pk__any_of=[])) == []
    with pytest.raises(TypeError):
        Product.objects.filter(pk__any_of=["1"])
    if connection.vendor == "postgresql":
        sql = str(Product.objects.filter(pk__any_of=ids).query)
        assert "= ANY(" in sql and " IN " not in sql


def test_instances_from_values_are_the_instances_only_would_give(world):
    from agents.compiled import instances_from_values
    from reports.models import SalesEntry
    from reports.selectors import REPORT_LINE_FIELDS
    from tests.reports.factories import SalesEntryFactory

    for _ in range(3):
        SalesEntryFactory(organization=world.org, member=world.agent)
    queryset = SalesEntry.objects.order_by("pk")
    expected = list(queryset.only(*REPORT_LINE_FIELDS))
    got = instances_from_values(
        SalesEntry, REPORT_LINE_FIELDS, queryset.values_list(*REPORT_LINE_FIELDS)
    )
    assert got == expected  # same model, same pk
    for mine, theirs in zip(got, expected, strict=True):
        assert {f: getattr(mine, f) for f in REPORT_LINE_FIELDS} == {
            f: getattr(theirs, f) for f in REPORT_LINE_FIELDS
        }
        assert mine.get_deferred_fields() == theirs.get_deferred_fields()
        assert mine._state.adding is False and mine._state.db == "default"
        assert mine.source == theirs.source  # a deferred field is read on demand
        assert mine.product.pk == theirs.product_id


def test_instances_from_values_send_init_signals_when_someone_listens(world):
    from django.db.models.signals import post_init

    from agents.compiled import instances_from_values
    from reports.models import SalesEntry
    from tests.reports.factories import SalesEntryFactory

    entry = SalesEntryFactory(organization=world.org, member=world.agent)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=SalesEntry)
    try:
        got = instances_from_values(SalesEntry, ("id", "quantity"), [(entry.pk, entry.quantity)])
    finally:
        post_init.disconnect(receiver, sender=SalesEntry)
    assert seen == got and got[0].quantity == entry.quantity


def _state(obj) -> dict:
    """An instance as the code sees it: its fields' values, what is deferred and cached."""
    return {
        "values": {f.attname: obj.__dict__.get(f.attname) for f in obj._meta.concrete_fields},
        "deferred": obj.get_deferred_fields(),
        "cached": sorted(obj._state.fields_cache),
        "adding": obj._state.adding,
        "db": obj._state.db,
    }


@pytest.mark.parametrize(
    "shape",
    ["plain", "select_related", "nullable_select_related", "only", "annotated", "values"],
)
def test_bare_instances_are_the_instances_the_queryset_gives(world, shape):
    from agents.compiled import BareModelIterable, bare_instances
    from reports.models import DailyReport
    from tests.reports.factories import DailyReportFactory

    DailyReportFactory(organization=world.org, member=world.agent, date=dt.date(2026, 3, 9))
    DailyReportFactory(
        organization=world.org,
        member=world.other_agent,
        date=dt.date(2026, 3, 10),
        unlocked_by=world.owner,
        unlocked_at=dt.datetime(2026, 3, 11, 2, 0, tzinfo=dt.UTC),
    )
    queryset = DailyReport.objects.order_by("date")
    queryset = {
        "plain": queryset,
        "select_related": queryset.select_related("member__user", "organization"),
        "nullable_select_related": queryset.select_related("unlocked_by"),
        "only": queryset.only("id", "date", "member"),
        "annotated": queryset.annotate(lines_count=Count("lines")),
        "values": queryset.values("id", "date"),
    }[shape]
    expected, got = list(queryset), list(bare_instances(queryset))
    if shape == "values":
        assert got == expected and bare_instances(queryset)._iterable_class is not BareModelIterable
        return
    assert [_state(obj) for obj in got] == [_state(obj) for obj in expected]
    if shape == "select_related":
        assert [obj.member.user.username for obj in got] == ["agent", "other_agent"]
    if shape == "nullable_select_related":
        assert [obj.unlocked_by for obj in got] == [None, world.owner]
    if shape == "annotated":
        assert [obj.lines_count for obj in got] == [0, 0]
    if shape == "only":
        assert got[0].is_late is False  # a deferred field is read on demand


def test_bare_instances_of_a_related_manager_know_their_owner(world):
    from agents.compiled import bare_instances
    from tests.reports.factories import DailyReportFactory

    DailyReportFactory(organization=world.org, member=world.agent, date=dt.date(2026, 3, 9))
    with CaptureQueriesContext(connection) as queries:
        reports = list(bare_instances(world.agent.daily_reports.all()))
        assert reports[0].member is world.agent  # set from the manager, not read again
    assert len(queries) == 1


# --- CompiledValues -------------------------------------------------------------------------


def _regions_by_prefix(shape, *, organization_id, prefix=None, ids=None, since=None):
    """Regions of an organization counted by level, filtered as `shape` says."""
    queryset = Region.objects.filter(organization_id=organization_id)
    if "prefix" in shape:
        queryset = queryset.filter(name__startswith=prefix)
    if "ids" in shape:
        queryset = queryset.filter(pk__in=ids)
    if "since" in shape:
        queryset = queryset.filter(organization__created_at__date__gte=since)
    return queryset.order_by("depth").values_list("depth").annotate(n=Count("id"), top=Max("name"))


_REGION_COUNTS = CompiledValues(
    _regions_by_prefix,
    kinds={"organization_id": int, "prefix": LikePrefix, "ids": list, "since": dt.date},
)


@pytest.fixture
def named_regions(world):
    """Names LIKE treats specially: a prefix must match them literally."""
    names = ["50%_off", "50%Xoff", "50_off", "5000", "a\\b", "a\\bc", "东区", "东北"]
    return [RegionFactory(organization=world.org, name=name) for name in names]


@pytest.mark.parametrize("prefix", ["50%", "50%_", "50_", "5", "a\\", "a\\b", "东", "", "zz"])
def test_compiled_values_answer_as_the_queryset_for_like_prefixes(world, named_regions, prefix):
    expected = list(_regions_by_prefix(("prefix",), organization_id=world.org.pk, prefix=prefix))
    got = _REGION_COUNTS.rows(("prefix",), organization_id=world.org.pk, prefix=prefix)
    assert got == expected
    assert bool(got) is (prefix != "zz")
    if prefix == "50%_":  # literally: not "50" followed by any text and any character
        assert got == [(0, 1, "50%_off")]


def test_compiled_values_shapes_lists_and_dates(world, named_regions):
    ids = [region.pk for region in named_regions[:3]]
    shapes = [
        ((), {}),
        (("ids",), {"ids": ids}),
        (("ids", "prefix"), {"ids": ids, "prefix": "50%"}),
        (("since",), {"since": dt.date(2000, 1, 1)}),
        (("since",), {"since": dt.date(2999, 1, 1)}),
    ]
    for shape, params in shapes:
        expected = list(_regions_by_prefix(shape, organization_id=world.org.pk, **params))
        assert _REGION_COUNTS.rows(shape, organization_id=world.org.pk, **params) == expected
    assert _REGION_COUNTS.rows(("ids",), organization_id=world.org.pk, ids=[]) == []
    other = _REGION_COUNTS.rows((), organization_id=world.rival.pk)
    assert other == list(_regions_by_prefix((), organization_id=world.rival.pk))


def test_compiled_values_check_what_they_are_given(world):
    with pytest.raises(TypeError):
        _REGION_COUNTS.rows(("since",), organization_id=world.org.pk, since=dt.datetime.now())
    with pytest.raises(TypeError):
        _REGION_COUNTS.rows((), organization_id=True)
    with pytest.raises(TypeError):
        _REGION_COUNTS.rows((), organization_id=world.org.pk, unknown=1)
    models_not_values = CompiledValues(
        lambda shape, organization_id: Region.objects.filter(organization_id=organization_id),
        kinds={"organization_id": int},
    )
    with pytest.raises(CompiledQueryError):
        models_not_values.rows((), organization_id=world.org.pk)
