from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """`?page=` and `?page_size=`; a larger page size is capped at the maximum, never refused;
    a page size that is not a positive integer is a 400 (DRF alone would ignore it silently)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw:  # `?page_size=` alone means the default
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value <= 0:
                raise ValidationError({self.page_size_query_param: [_("A positive integer.")]})
        return super().get_page_size(request)
