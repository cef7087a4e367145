"""The OpenAPI schema documents the common error answers on every operation, the database
outage's 503 (config/middleware.py) included, so the docs show what a client must handle."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_documents_the_503_with_retry_after(schema):
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 50
    for path, method, operation in operations:
        answer = operation["responses"].get("503")
        assert answer is not None, (method, path)
        assert "Retry-After" in answer["headers"], (method, path)
        assert answer["content"]["application/json"]["schema"]["required"] == ["detail"]


def test_the_other_common_errors_stay_documented(schema):
    members = schema["paths"]["/api/v1/orgs/{org_slug}/members/{id}/"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "415", "429", "503"} <= set(members)


def test_an_invitation_by_username_answers_an_email_the_schema_allows(schema, client_for, world):
    """The invitation's e-mail is "" when it names only a username: the answers' schema must
    allow "" besides an e-mail address (agents/api/schema.py)."""
    import jsonschema

    response = client_for(world.owner).post(
        "/api/v1/orgs/acme/invitations/", {"username": "new.agent", "role": "agent"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["email"] == ""
    for name in ("Invitation", "InvitationSent"):
        email = schema["components"]["schemas"][name]["properties"]["email"]
        assert "email" in schema["components"]["schemas"][name]["required"]
        checks = jsonschema.FormatChecker()
        for checker in (None, checks):  # "" is valid whether the formats are checked or not
            jsonschema.validate("", email, format_checker=checker)
            jsonschema.validate("li@example.com", email, format_checker=checker)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate("not an address", email, format_checker=checks)
