from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agents.demo import DEMO_LOGINS, DEMO_STEPS, DemoConflict, demo_load


class Command(BaseCommand):
    help = (
        "Load the demo organization 'demo' with its people, regions, levels, products and "
        "customers. Idempotent: whatever exists is left as it is."
    )

    def handle(self, *args, **options):
        disable = options["verbosity"] == 0
        with tqdm(total=len(DEMO_STEPS), desc="Loading the demo", disable=disable) as bar:

            def step(name: str) -> None:
                bar.set_postfix_str(name)
                bar.update(1)

            try:
                result = demo_load(progress=step)
            except DemoConflict as exc:
                raise CommandError(str(exc)) from exc
        organization = result.organization
        if result.created_total:
            parts = ", ".join(f"{what} {count}" for what, count in result.created.items())
            message = f"Demo organization '{organization.slug}' loaded (created: {parts})."
            self.stdout.write(self.style.SUCCESS(message))
        else:
            self.stdout.write(
                f"Demo organization '{organization.slug}' is already loaded; nothing changed."
            )
        if options["verbosity"] >= 2:
            for login in DEMO_LOGINS:
                self.stdout.write(f"  {login.username} / {login.password}  {login.description}")
