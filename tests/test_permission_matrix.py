"""Runs every app's permission matrix and checks that no organization-scoped route is missing."""

import importlib
import re

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.matrix import PERSONAS

MATRIX_MODULES = [
    "tests.agents.matrix_cases",
    "tests.reports.matrix_cases",
    "tests.plans.matrix_cases",
    "tests.notifications.matrix_cases",
    "tests.appraisals.matrix_cases",
]

ALL_CASES = [case for module in MATRIX_MODULES for case in importlib.import_module(module).CASES]


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_permission_matrix(case, world, client_for):
    """Each persona runs the case in its own savepoint, rolled back afterwards: every persona
    sees the same starting data, and the world is built once per case, not once per persona."""
    mismatches = []
    for persona in PERSONAS:
        try:
            with transaction.atomic():
                response = case.run(world, client_for, persona)
                raise _Rollback()
        except _Rollback:
            pass
        expected = case.expected(persona)
        if response.status_code != expected:
            mismatches.append(
                f"{persona}: expected {expected}, got {response.status_code}: "
                f"{getattr(response, 'data', response.content)!r}"[:400]
            )
    assert not mismatches, f"{case.id}\n" + "\n".join(mismatches)


def _org_routes():
    """(route name, METHOD) for every pattern under /api/v1/orgs/<org_slug>/."""

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace or namespace
                yield from walk(pattern.url_patterns, route, ns)
            elif isinstance(pattern, URLPattern) and "<slug:org_slug>" in route:
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                if actions is not None:
                    methods = set(actions) & set(callback.cls.http_method_names)
                else:
                    view_class = callback.view_class
                    methods = {m for m in view_class.http_method_names if hasattr(view_class, m)}
                methods -= {"head", "options"}
                if "\\.(?P<format>" in route or "<drf_format_suffix" in route:
                    continue
                for method in methods:
                    yield pattern.name, method

    return set(walk(get_resolver().url_patterns, "", None))


def test_every_org_route_has_a_matrix_entry():
    covered = {(case.route, case.method) for case in ALL_CASES}
    routes = _org_routes()
    assert routes, "no organization-scoped routes found"
    missing = sorted(routes - covered)
    assert not missing, f"routes without a permission-matrix case: {missing}"


def test_every_org_route_is_reached_by_its_own_urls():
    """The apps' URLconfs are tried in the order of config.api_router.ORG_SCOPED_URLCONFS (the
    reports first, for the speed of the daily-report PUT): no app's pattern may catch another
    app's URL."""
    samples = {"int": "7", "slug": "acme", "str": "2026-03-10", "path": "x/y"}
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and "<slug:org_slug>" in route:
                if "\\.(?P<format>" in route or "<drf_format_suffix" in route:
                    continue
                found.append((pattern.name, route))

    walk(get_resolver().url_patterns, "")
    assert found
    for name, route in found:
        path = re.sub(r"<(\w+):\w+>", lambda match: samples[match.group(1)], route)
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "7", path).replace("^", "").replace("$", "")
        assert resolve("/" + path).url_name == name, (name, path)
