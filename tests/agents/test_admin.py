"""The admin: tenancy for organization staff, tree-keeping saves, and a smoke test of every page.

Organization staff are owners/admins with User.is_staff; they have no Django model permissions.
"""

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.invitations import invitation_create
from agents.models import (
    AgentLevel,
    CalendarDay,
    Customer,
    Membership,
    Organization,
    Product,
    Region,
    Role,
    User,
)
from tests.agents.factories import (
    AgentLevelFactory,
    CalendarDayFactory,
    CustomerFactory,
    MembershipFactory,
    OrganizationFactory,
    ProductFactory,
    RegionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

AGENTS_MODELS = sorted(
    (
        model
        for model in admin.site._registry
        # The audit trail has no add page (read-only): tests/agents/test_audit.py covers it.
        if model._meta.app_label == "agents" and model._meta.model_name != "auditentry"
    ),
    key=lambda model: model._meta.model_name,
)
TENANT_MODELS = [Membership, Region, AgentLevel, Product, Customer, CalendarDay]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:agents_{model._meta.model_name}_{view}", args=args)


def form_data(response, **changes) -> dict:
    """What the browser would post back for the form a GET rendered, with changes applied."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if value is None or value is False:
                continue
            if value is True:
                data[key] = "on"
            elif isinstance(value, (list, tuple)):
                data[key] = [str(item) for item in value]
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def form_errors(response) -> dict:
    form = response.context["adminform"].form
    return {name: [str(error) for error in errors] for name, errors in form.errors.items()}


@pytest.fixture
def catalog(world):
    """Catalog rows in both organizations."""
    rival_region = RegionFactory(organization=world.rival, name="North")
    return {
        "acme_level": AgentLevelFactory(organization=world.org, name="Gold"),
        "rival_level": AgentLevelFactory(organization=world.rival, name="Platinum"),
        "acme_product": ProductFactory(organization=world.org, name="Acme cream"),
        "rival_product": ProductFactory(organization=world.rival, name="Rival cream"),
        "acme_customer": CustomerFactory(
            organization=world.org, name="Acme buyer", owner=world.agent
        ),
        "rival_customer": CustomerFactory(
            organization=world.rival,
            name="Rival buyer",
            owner=world.outsider,
            region=rival_region,
        ),
        "rival_region": rival_region,
        "acme_day": CalendarDayFactory(organization=world.org),
        "rival_day": CalendarDayFactory(organization=world.rival),
        "acme_invitation": invitation_create(
            organization=world.org, actor=world.owner, email="invitee@example.com"
        )[0],
    }


@pytest.fixture
def superuser_client(db):
    client = Client()  # its own session: tests may use it beside `client`
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def staff_client(client, member: Membership):
    member.user.is_staff = True
    member.user.save(update_fields=["is_staff"])
    client.force_login(member.user)
    return client


@pytest.fixture
def owner_client(client, world):
    """The owner of acme, as organization staff."""
    return staff_client(client, world.owner)


def changelist_rows(client, model, query: str = "") -> list:
    response = client.get(admin_url(model, "changelist") + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


# --- Who sees what -------------------------------------------------------------------------------


def test_superuser_sees_every_organizations_rows(superuser_client, world, catalog):
    for model in (Membership, Customer, Product, Region, AgentLevel, CalendarDay):
        organizations = {row.organization_id for row in changelist_rows(superuser_client, model)}
        assert organizations == {world.org.pk, world.rival.pk}, model
    organizations = changelist_rows(superuser_client, Organization)
    assert {row.slug for row in organizations} == {"acme", "rival"}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model._meta.model_name)
def test_organization_staff_see_only_their_organizations_rows(owner_client, world, catalog, model):
    rows = changelist_rows(owner_client, model)
    assert rows
    assert {row.organization_id for row in rows} == {world.org.pk}


def test_organization_staff_see_only_their_organization(owner_client, world, catalog):
    assert [row.slug for row in changelist_rows(owner_client, Organization)] == ["acme"]
    members = {row.user.username for row in changelist_rows(owner_client, Membership)}
    assert "outsider" not in members and {"owner", "agent", "sub_agent"} <= members


def test_organization_staff_search_stays_in_their_organization(owner_client, world, catalog):
    rows = changelist_rows(owner_client, Customer, "?q=buyer")
    assert [row.name for row in rows] == ["Acme buyer"]


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_other_organizations_rows_do_not_exist_for_staff(owner_client, world, catalog, view):
    rows = [
        world.outsider,
        catalog["rival_customer"],
        catalog["rival_product"],
        catalog["rival_region"],
        catalog["rival_level"],
        catalog["rival_day"],
        world.rival,
    ]
    for row in rows:
        response = owner_client.get(admin_url(type(row), view, row.pk))
        if isinstance(row, Organization) and view == "delete":
            # Staff delete no organization at all, their own included: no hint either way.
            assert response.status_code == 403
            continue
        # Like a deleted object: back to the index with "does not exist", never the data.
        assert response.status_code == 302, (row, view)
        assert response.url == reverse("admin:index")


def test_posting_to_another_organizations_row_changes_nothing(owner_client, world, catalog):
    product = catalog["rival_product"]
    response = owner_client.post(
        admin_url(Product, "change", product.pk),
        {"sku": "HACKED", "name": "x", "price": "1", "cost": "1"},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.sku != "HACKED"


def test_membership_add_form_offers_only_their_choices(owner_client, world, catalog):
    response = owner_client.get(admin_url(Membership, "add"))
    assert response.status_code == 200
    fields = response.context["adminform"].form.fields
    organization = fields["organization"]
    assert organization.disabled and organization.widget.is_hidden
    assert organization.initial == world.org.pk
    for name in ("upline", "region", "level"):
        organizations = {row.organization_id for row in fields[name].queryset}
        assert organizations == {world.org.pk}, name
    # Everybody they could see is already a member: they add new people only.
    assert not fields["existing_user"].queryset.exists()
    assert "Rival" not in response.content.decode()


@pytest.mark.parametrize(
    ("model_name", "field_name"),
    [("membership", "upline"), ("membership", "region"), ("customer", "owner")],
)
def test_autocomplete_is_scoped_to_their_organizations(
    owner_client, superuser_client, world, catalog, model_name, field_name
):
    url = reverse("admin:autocomplete")
    params = {"app_label": "agents", "model_name": model_name, "field_name": field_name}
    response = owner_client.get(url, params)
    assert response.status_code == 200
    ids = {int(result["id"]) for result in response.json()["results"]}
    target = Membership if field_name in ("upline", "owner") else Region
    assert ids
    assert set(target.objects.filter(pk__in=ids).values_list("organization", flat=True)) == {
        world.org.pk
    }


def test_autocomplete_for_superusers_spans_organizations(superuser_client, world):
    response = superuser_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "agents", "model_name": "membership", "field_name": "upline"},
    )
    assert str(world.outsider.pk) in {result["id"] for result in response.json()["results"]}


def test_list_filter_choices_are_scoped(owner_client, superuser_client, world, catalog):
    def region_choices(client):
        response = client.get(admin_url(Customer, "changelist"))
        specs = {spec.title: spec for spec in response.context["cl"].filter_specs}
        return {name for _, name in specs["region"].lookup_choices}, set(specs)

    regions, titles = region_choices(owner_client)
    assert regions == {"East", "West"}
    assert "organization" not in titles  # one organization: no organization filter
    regions, titles = region_choices(superuser_client)
    assert "North" in regions and "organization" in titles


def test_staff_cannot_choose_another_organizations_row(owner_client, world, catalog):
    response = owner_client.post(
        admin_url(Customer, "add"),
        {
            "name": "Sneaky",
            "kind": "consumer",
            "status": "prospect",
            "region": catalog["rival_region"].pk,
        },
    )
    assert response.status_code == 200
    assert "region" in form_errors(response)
    assert not Customer.objects.filter(name="Sneaky").exists()


def test_single_organization_staff_rows_land_in_their_organization(owner_client, world):
    response = owner_client.post(
        admin_url(Product, "add"),
        # A forged organization is ignored: the field is fixed to the one they administer.
        {
            "organization": world.rival.pk,
            "sku": "NEW-1",
            "name": "New",
            "price": "10",
            "cost": "4",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, form_errors(response)
    assert Product.objects.get(sku="NEW-1").organization == world.org


def test_superuser_cannot_mix_organizations_in_one_row(superuser_client, world, catalog):
    response = superuser_client.post(
        admin_url(Customer, "add"),
        {
            "organization": world.org.pk,
            "name": "Mixed",
            "kind": "consumer",
            "status": "prospect",
            "owner": world.outsider.pk,
        },
    )
    assert response.status_code == 200
    assert form_errors(response)["owner"] == ["Choose one from the same organization."]


def test_non_staff_member_cannot_enter_the_admin(client, world):
    client.force_login(world.leader.user)
    for url in (reverse("admin:index"), admin_url(Membership, "changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_staff_leader_has_no_organization_to_administer(client, world):
    staff_client(client, world.leader)
    assert client.get(admin_url(Membership, "changelist")).status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200 and not index.context["app_list"]


def test_staff_who_left_lose_the_admin(client, world):
    world.admin.status = "left"
    world.admin.save(update_fields=["status"])
    staff_client(client, world.admin)
    assert client.get(admin_url(Membership, "changelist")).status_code == 403


def test_organization_staff_index_lists_their_models_but_not_users(owner_client, world):
    index = owner_client.get(reverse("admin:index"))
    models = {model["object_name"] for app in index.context["app_list"] for model in app["models"]}
    assert {"Membership", "Organization", "Customer", "Product"} <= models
    assert "User" not in models
    assert owner_client.get(admin_url(User, "changelist")).status_code == 403


def test_organization_staff_cannot_add_or_delete_organizations(owner_client, world):
    assert owner_client.get(admin_url(Organization, "add")).status_code == 403
    assert owner_client.get(admin_url(Organization, "delete", world.org.pk)).status_code == 403


# --- Every page renders -------------------------------------------------------------------------


@pytest.mark.parametrize("model", AGENTS_MODELS, ids=lambda model: model._meta.model_name)
def test_every_agents_admin_page_renders_for_a_superuser(superuser_client, world, catalog, model):
    assert superuser_client.get(admin_url(model, "changelist")).status_code == 200
    assert superuser_client.get(admin_url(model, "changelist") + "?q=a").status_code == 200
    assert superuser_client.get(admin_url(model, "add")).status_code == 200
    row = model._default_manager.first()
    assert superuser_client.get(admin_url(model, "change", row.pk)).status_code == 200


@pytest.mark.parametrize(
    "model",
    [model for model in AGENTS_MODELS if model is not User],
    ids=lambda model: model._meta.model_name,
)
def test_every_agents_admin_page_renders_for_organization_staff(
    owner_client, world, catalog, model
):
    assert owner_client.get(admin_url(model, "changelist")).status_code == 200
    if model is not Organization:
        assert owner_client.get(admin_url(model, "add")).status_code == 200
    row = model._default_manager.filter(
        **({"pk": world.org.pk} if model is Organization else {"organization": world.org})
    ).first()
    assert owner_client.get(admin_url(model, "change", row.pk)).status_code == 200


@pytest.mark.parametrize("model", [Membership, Customer, Region, Organization])
def test_changelist_queries_do_not_grow_with_rows(superuser_client, world, model):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert superuser_client.get(admin_url(model, "changelist")).status_code == 200
        return len(queries)

    def add_rows():
        for _ in range(5):
            organization = OrganizationFactory()
            region = RegionFactory(organization=organization)
            upline = MembershipFactory(organization=organization, region=region)
            member = MembershipFactory(organization=organization, upline=upline, region=region)
            CustomerFactory(organization=organization, owner=member, region=region)

    add_rows()
    few = count_queries()
    add_rows()
    assert count_queries() == few


# --- Members: the tree stays right --------------------------------------------------------------


def test_adding_a_member_with_an_upline_places_them_in_the_tree(superuser_client, world):
    person = UserFactory(username="newcomer")
    add_page = superuser_client.get(admin_url(Membership, "add"))
    response = superuser_client.post(
        admin_url(Membership, "add"),
        form_data(
            add_page,
            organization=str(world.org.pk),
            existing_user=str(person.pk),
            upline=str(world.agent.pk),
            code="A-777",
        ),
    )
    assert response.status_code == 302, form_errors(response)
    member = Membership.objects.get(user=person)
    assert member.organization == world.org
    assert member.path == f"{world.agent.path}{member.pk}/"
    assert member.depth == world.agent.depth + 1


def test_staff_add_a_new_person_with_an_account(owner_client, world):
    add_page = owner_client.get(admin_url(Membership, "add"))
    response = owner_client.post(
        admin_url(Membership, "add"),
        form_data(
            add_page,
            new_username="fresh",
            display_name="Fresh Face",
            new_password="a-good-pass-phrase",
            upline=str(world.leader.pk),
        ),
    )
    assert response.status_code == 302, form_errors(response)
    member = Membership.objects.select_related("user").get(user__username="fresh")
    assert member.organization == world.org
    assert member.user.check_password("a-good-pass-phrase")
    assert member.user.display_name == "Fresh Face"
    assert member.path == f"{world.leader.path}{member.pk}/"


def test_adding_needs_a_person(owner_client, superuser_client, world):
    add_page = owner_client.get(admin_url(Membership, "add"))
    response = owner_client.post(admin_url(Membership, "add"), form_data(add_page))
    assert response.status_code == 200
    assert form_errors(response)["new_username"] == ["Enter the new person's username."]
    add_page = superuser_client.get(admin_url(Membership, "add"))
    response = superuser_client.post(
        admin_url(Membership, "add"), form_data(add_page, organization=str(world.org.pk))
    )
    assert form_errors(response)["__all__"] == ["Choose an existing user or create a new one."]


def test_adding_a_new_person_checks_username_and_password(owner_client, world):
    add_page = owner_client.get(admin_url(Membership, "add"))
    response = owner_client.post(
        admin_url(Membership, "add"),
        form_data(add_page, new_username="AGENT", new_password="x"),
    )
    assert form_errors(response)["new_username"] == ["This username is taken."]
    response = owner_client.post(
        admin_url(Membership, "add"),
        form_data(add_page, new_username="someone", new_password="123"),
    )
    assert "new_password" in form_errors(response)
    assert not User.objects.filter(username="someone").exists()


def test_moving_an_upline_moves_the_whole_subtree(superuser_client, world):
    url = admin_url(Membership, "change", world.agent.pk)
    response = superuser_client.post(
        url, form_data(superuser_client.get(url), upline=str(world.other_leader.pk))
    )
    assert response.status_code == 302, form_errors(response)
    world.agent.refresh_from_db()
    world.sub_agent.refresh_from_db()
    assert world.agent.upline == world.other_leader
    assert world.agent.path == f"{world.other_leader.path}{world.agent.pk}/"
    assert world.sub_agent.path == f"{world.agent.path}{world.sub_agent.pk}/"
    assert world.sub_agent.depth == 2


def test_moving_an_upline_under_own_descendant_is_a_form_error(superuser_client, world):
    url = admin_url(Membership, "change", world.leader.pk)
    paths_before = dict(Membership.objects.values_list("pk", "path"))
    response = superuser_client.post(
        url, form_data(superuser_client.get(url), upline=str(world.sub_agent.pk))
    )
    assert response.status_code == 200
    assert form_errors(response)["upline"] == [
        "This would make a cycle: the new parent is inside the subtree."
    ]
    assert dict(Membership.objects.values_list("pk", "path")) == paths_before


def test_an_upline_from_another_organization_is_refused(superuser_client, world):
    url = admin_url(Membership, "change", world.agent.pk)
    response = superuser_client.post(
        url, form_data(superuser_client.get(url), upline=str(world.outsider.pk))
    )
    assert response.status_code == 200
    assert "upline" in form_errors(response)


def test_member_changes_and_display_name_are_saved(owner_client, world):
    url = admin_url(Membership, "change", world.agent.pk)
    response = owner_client.post(
        url,
        form_data(owner_client.get(url), status="suspended", display_name="Agent Smith"),
    )
    assert response.status_code == 302, form_errors(response)
    world.agent.refresh_from_db()
    assert world.agent.status == "suspended"
    assert world.agent.user.display_name == "Agent Smith"


def test_a_taken_agent_code_is_a_form_error(owner_client, world):
    url = admin_url(Membership, "change", world.sub_agent.pk)
    response = owner_client.post(url, form_data(owner_client.get(url), code="A-001"))
    assert form_errors(response)["code"] == ["Another member has this agent code."]


def test_an_admin_cannot_make_an_owner(client, world):
    staff_client(client, world.admin)
    url = admin_url(Membership, "change", world.agent.pk)
    response = client.post(url, form_data(client.get(url), role=Role.OWNER))
    assert response.status_code == 200
    assert "role" in form_errors(response)
    world.agent.refresh_from_db()
    assert world.agent.role == Role.AGENT


def test_the_last_owner_cannot_step_down(owner_client, world):
    url = admin_url(Membership, "change", world.owner.pk)
    response = owner_client.post(url, form_data(owner_client.get(url), role=Role.AGENT))
    assert response.status_code == 200
    assert form_errors(response)["__all__"] == [
        "An organization must keep at least one active owner."
    ]


def test_an_admin_sees_owners_and_admins_read_only(client, world):
    staff_client(client, world.admin)
    page = client.get(admin_url(Membership, "change", world.owner.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    response = client.post(admin_url(Membership, "change", world.owner.pk), {"role": "agent"})
    assert response.status_code == 403
    assert client.get(admin_url(Membership, "delete", world.owner.pk)).status_code == 403
    world.owner.refresh_from_db()
    assert world.owner.role == Role.OWNER


def test_staff_of_two_organizations_choose_between_them(client, world, catalog):
    MembershipFactory(organization=world.org, user=world.outsider.user, role=Role.ADMIN)
    staff_client(client, world.outsider)
    rows = changelist_rows(client, Customer)
    assert {row.organization_id for row in rows} == {world.org.pk, world.rival.pk}
    page = client.get(admin_url(Customer, "add"))
    organization = page.context["adminform"].form.fields["organization"]
    assert not organization.disabled
    assert set(organization.queryset) == {world.org, world.rival}
    members = client.get(admin_url(Membership, "add")).context["adminform"].form
    usernames = {user.username for user in members.fields["existing_user"].queryset}
    assert "agent" in usernames and "outsider" in usernames and "root" not in usernames
    response = client.post(
        admin_url(Customer, "add"),
        {
            "organization": world.rival.pk,
            "name": "Mixed",
            "kind": "consumer",
            "status": "prospect",
            "owner": world.agent.pk,
        },
    )
    assert form_errors(response)["owner"] == ["Choose one from the same organization."]


# --- Regions -----------------------------------------------------------------------------------


def test_adding_a_region_under_a_parent_places_it(owner_client, world):
    east = Region.objects.get(organization=world.org, name="East")
    add_page = owner_client.get(admin_url(Region, "add"))
    response = owner_client.post(
        admin_url(Region, "add"), form_data(add_page, name="Shanghai", parent=str(east.pk))
    )
    assert response.status_code == 302, form_errors(response)
    region = Region.objects.get(name="Shanghai")
    assert region.organization == world.org
    assert region.path == f"{east.path}{region.pk}/" and region.depth == 1


def test_moving_a_region_under_its_child_is_a_form_error(owner_client, world):
    east = Region.objects.get(organization=world.org, name="East")
    child = RegionFactory(organization=world.org, name="Pudong", parent=east)
    url = admin_url(Region, "change", east.pk)
    response = owner_client.post(url, form_data(owner_client.get(url), parent=str(child.pk)))
    assert response.status_code == 200
    assert form_errors(response)["parent"] == [
        "This would make a cycle: the new parent is inside the subtree."
    ]


def test_moving_a_region_moves_its_subtree(owner_client, world):
    east = Region.objects.get(organization=world.org, name="East")
    west = Region.objects.get(organization=world.org, name="West")
    child = RegionFactory(organization=world.org, name="Pudong", parent=east)
    url = admin_url(Region, "change", east.pk)
    response = owner_client.post(url, form_data(owner_client.get(url), parent=str(west.pk)))
    assert response.status_code == 302, form_errors(response)
    child.refresh_from_db()
    assert child.path == f"{west.path}{east.pk}/{child.pk}/" and child.depth == 2


def test_a_sibling_region_name_is_a_form_error(owner_client, world):
    add_page = owner_client.get(admin_url(Region, "add"))
    response = owner_client.post(admin_url(Region, "add"), form_data(add_page, name="East"))
    assert form_errors(response)["name"] == ["A region with this name exists at this level."]


# --- Organizations -------------------------------------------------------------------------------


def test_webhook_secret_is_never_shown_and_kept_when_left_empty(owner_client, world):
    world.org.webhook_secret = "s3cret-value"
    world.org.save(update_fields=["webhook_secret"])
    url = admin_url(Organization, "change", world.org.pk)
    page = owner_client.get(url)
    assert "s3cret-value" not in page.content.decode()
    response = owner_client.post(
        url, form_data(page, name="Acme Ltd", webhook_secret=None, workdays=["1", "2", "3"])
    )
    assert response.status_code == 302, form_errors(response)
    world.org.refresh_from_db()
    assert world.org.webhook_secret == "s3cret-value"
    assert world.org.name == "Acme Ltd" and world.org.workdays == [1, 2, 3]


def test_webhook_secret_can_be_replaced_and_removed(owner_client, world):
    url = admin_url(Organization, "change", world.org.pk)
    owner_client.post(url, form_data(owner_client.get(url), webhook_secret="new-one"))
    world.org.refresh_from_db()
    assert world.org.webhook_secret == "new-one"
    owner_client.post(url, form_data(owner_client.get(url), clear_webhook_secret="on"))
    world.org.refresh_from_db()
    assert world.org.webhook_secret == ""


def test_staff_cannot_change_slug_or_deactivate(owner_client, world):
    url = admin_url(Organization, "change", world.org.pk)
    response = owner_client.post(
        url, form_data(owner_client.get(url), slug="stolen", is_active=None)
    )
    assert response.status_code == 302, form_errors(response)
    world.org.refresh_from_db()
    assert world.org.slug == "acme" and world.org.is_active


def test_superuser_adds_an_organization_with_its_calendar(superuser_client):
    add_page = superuser_client.get(admin_url(Organization, "add"))
    response = superuser_client.post(
        admin_url(Organization, "add"), form_data(add_page, name="Newco", slug="newco")
    )
    assert response.status_code == 302, form_errors(response)
    organization = Organization.objects.get(slug="newco")
    assert CalendarDay.objects.filter(organization=organization).exists()


def test_calendar_days_are_edited_inline(owner_client, world):
    url = admin_url(Organization, "change", world.org.pk)
    page = owner_client.get(url)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    data = form_data(page)
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(int(data[f"{prefix}-TOTAL_FORMS"]) + 1),
            f"{prefix}-{data[f'{prefix}-TOTAL_FORMS']}-date": "2026-05-20",
            f"{prefix}-{data[f'{prefix}-TOTAL_FORMS']}-name": "Company day",
        }
    )
    response = owner_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    day = CalendarDay.objects.get(organization=world.org, date=dt.date(2026, 5, 20))
    assert day.name == "Company day" and not day.is_workday
