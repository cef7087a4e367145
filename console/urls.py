from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.dashboard_choose, name="dashboard-choose"),
    path("<slug:slug>/", views.dashboard, name="dashboard"),
]
