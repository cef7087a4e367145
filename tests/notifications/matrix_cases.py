from tests.matrix import Case, everyone, roles
from tests.notifications.factories import NotificationFactory


def agents_notification(world) -> dict:
    return {"pk": NotificationFactory(recipient=world.agent).pk}


CASES = [
    # Everyone has an inbox of their own.
    Case("my-notifications-list", "get", everyone(200)),
    Case("my-notifications-read-all", "post", everyone(200)),
    # Another member's notification does not exist for the caller, whatever their role.
    Case("my-notifications-read", "post", roles(404, agent=200), args=agents_notification),
]
