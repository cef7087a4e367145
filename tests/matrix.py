"""The permission-matrix harness.

Each app lists its cases in tests/<app>/matrix_cases.py as `CASES = [Case(...), ...]`; the module
is named in MATRIX_MODULES of tests/test_permission_matrix.py, which runs every case once per
persona and fails when an organization-scoped route and method has no case.

A case names a URL (by its route name in the `api` namespace), a method, how to build the URL
arguments and the body from the `world` fixture (tests/conftest.py), and the status each persona
must get. The object a case acts on belongs to branch A (the `leader`'s subtree, usually owned by
`agent`). Anonymous callers always get 401 and members of another organization always get 404,
unless the case says otherwise.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

PERSONAS = (
    "anonymous",
    "outsider",
    "agent",
    "other_agent",
    "leader",
    "other_leader",
    "admin",
    "owner",
)
IN_ORG = PERSONAS[2:]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(IN_ORG, status)


def roles(default: int, **overrides: int) -> dict[str, int]:
    expected = everyone(default)
    expected.update(overrides)
    return expected


@dataclass(frozen=True)
class Case:
    route: str  # e.g. "members-detail" (in the "api" namespace)
    method: str  # "get", "post", "patch", "put", "delete"
    expect: dict[str, int]
    args: Callable[[Any], dict] = field(default=lambda world: {})
    body: Callable[[Any], Any] | None = None
    fmt: str = "json"
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.route}{' ' + self.label if self.label else ''}"

    def expected(self, persona: str) -> int:
        if persona == "anonymous":
            return self.expect.get("anonymous", 401)
        if persona == "outsider":
            return self.expect.get("outsider", 404)
        return self.expect[persona]

    def url(self, world) -> str:
        return reverse(f"api:{self.route}", kwargs={"org_slug": world.org.slug, **self.args(world)})

    def run(self, world, client_for, persona: str):
        client = client_for(world.member(persona))
        url = self.url(world)
        body = self.body(world) if self.body else None
        call = getattr(client, self.method)
        if body is None:
            return call(url)
        return call(url, body, format=self.fmt)
