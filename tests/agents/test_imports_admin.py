"""Spreadsheet imports in the admin: the Import button, upload, preview, confirm (Django test
client, as organization staff: an owner/admin with User.is_staff)."""

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Membership, Product
from tests.agents.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.agents.upload_files import csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(world) -> Client:
    user = world.admin.user
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_changelists_show_the_import_button(staff):
    for name in ("agents_membership", "agents_product", "agents_customer"):
        page = staff.get(reverse(f"admin:{name}_changelist"))
        assert page.status_code == 200
        assert reverse(f"admin:{name}_import") in page.content.decode()


def test_members_upload_preview_confirm(staff, world):
    url = reverse("admin:agents_membership_import")
    page = staff.get(url)
    assert page.status_code == 200 and b'type="file"' in page.content
    text = "code,username,display name,upline\nN-2,newer,Second,N-1\nN-1,newest,First,A-001\n"
    preview = staff.post(url, {"organization": world.org.pk, "file": csv_file(text)})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "import-preview" in html and "N-1" in html and "newest" in html
    assert not Membership.objects.filter(code__in=["N-1", "N-2"]).exists()  # nothing yet
    token = preview.context["token"]
    done = staff.post(url, {"token": token})
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:agents_membership_changelist")
    first = Membership.objects.get(organization=world.org, code="N-1")
    assert first.upline == world.agent
    assert Membership.objects.get(code="N-2").upline == first
    # The token is spent: confirming again imports nothing twice.
    again = staff.post(url, {"token": token}, follow=True)
    assert Membership.objects.filter(code="N-1").count() == 1
    assert "expired" in again.content.decode()


def test_row_errors_are_listed_and_nothing_is_written(staff, world):
    url = reverse("admin:agents_product_import")
    text = "sku,name,price\nOK,Fine,1\nBAD,,-1\n"
    page = staff.post(url, {"organization": world.org.pk, "file": csv_file(text)})
    html = page.content.decode()
    assert page.status_code == 200 and "import-errors" in html
    assert "A new product needs a name." in html and 'name="token"' not in html
    assert not Product.objects.filter(organization=world.org).exists()


def test_staff_cannot_import_into_an_organization_they_do_not_administer(staff, world):
    url = reverse("admin:agents_product_import")
    page = staff.post(url, {"organization": world.rival.pk, "file": csv_file("sku,name\nX,Y\n")})
    assert page.status_code == 200
    assert page.context["form"].errors["organization"]
    assert not Product.objects.exists()


def test_a_token_belongs_to_its_user(staff, world):
    url = reverse("admin:agents_product_import")
    preview = staff.post(url, {"organization": world.org.pk, "file": csv_file("sku,name\nX,Y\n")})
    token = preview.context["token"]
    other = Client()
    owner = world.owner.user
    owner.is_staff = True
    owner.save()
    other.force_login(owner)
    other.post(url, {"token": token})
    assert not Product.objects.exists()


def test_agents_and_staff_without_an_organization_cannot_import(world):
    nobody = UserFactory(is_staff=True)
    agent = world.agent.user
    agent.is_staff = True
    agent.save()
    other_org_agent = MembershipFactory(organization=OrganizationFactory(), user=nobody)
    assert other_org_agent.role == "agent"
    for user in (nobody, agent):
        client = Client()
        client.force_login(user)
        response = client.get(reverse("admin:agents_product_import"))
        assert response.status_code in (302, 403)


def test_a_superuser_imports_into_any_organization(world):
    root = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    url = reverse("admin:agents_membership_import")
    text = "code,username,role\nR-1,rival_admin,admin\n"
    preview = client.post(url, {"organization": world.rival.pk, "file": csv_file(text)})
    assert preview.context["result"].created == 1
    assert client.post(url, {"token": preview.context["token"]}).status_code == 302
    created = Membership.objects.get(organization=world.rival, code="R-1")
    assert created.role == "admin" and created.path == f"/{created.pk}/"
