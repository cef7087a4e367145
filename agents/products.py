"""Rules about the product catalog that other apps apply when they reference a product.

A deactivated product (`is_active` false) stays in the catalog for the facts, targets and
feedback that already name it, but is no longer sold: new sales lines, sales entries, targets and
feedback refuse it. What already names it keeps working: a daily report whose stored lines have the
product may be edited and still carry them, and a target or feedback that names it may be edited
as long as the product is not changed to another inactive one."""

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Product


def inactive_product_message() -> str:
    return _("This product is no longer sold.")


def product_check_sellable(
    product: Product | None, *, field: str = "product", kept_ids: Collection[int] = ()
) -> None:
    """Refuse a deactivated product with a 400 on `field`, unless its id is in `kept_ids` (a
    reference the object already had)."""
    if product is not None and not product.is_active and product.pk not in kept_ids:
        raise ValidationError({field: inactive_product_message()})
