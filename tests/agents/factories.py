import datetime as dt
from decimal import Decimal

import factory

from agents.models import (
    AgentLevel,
    CalendarDay,
    Customer,
    Membership,
    MemberStatus,
    Organization,
    Product,
    Region,
    Role,
    User,
)
from agents.services import tree_node_place


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save(update_fields=["password"])


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organization {n}")


class TreeFactory(factory.django.DjangoModelFactory):
    """Places the node in its tree after insert, as the services do."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        node = super()._create(model_class, *args, **kwargs)
        parent = node.upline if isinstance(node, Membership) else node.parent
        tree_node_place(node=node, parent=parent)
        return node


class RegionFactory(TreeFactory):
    class Meta:
        model = Region

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Region {n}")
    parent = None


class MembershipFactory(TreeFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.AGENT
    status = MemberStatus.ACTIVE
    upline = None
    joined_on = dt.date(2026, 1, 1)


class AgentLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentLevel

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Level {n}")
    rank = factory.Sequence(lambda n: n + 1)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "skincare"
    price = Decimal("100.00")
    cost = Decimal("40.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    owner = None


class CalendarDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarDay

    organization = factory.SubFactory(OrganizationFactory)
    date = dt.date(2026, 10, 1)
    is_workday = False
    name = "National Day"
