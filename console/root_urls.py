"""The console's URLs at the site's root (config/urls.py includes them): the favicon."""

from django.urls import path

from . import views

urlpatterns = [path("favicon.ico", views.favicon, name="favicon")]
