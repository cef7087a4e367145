"""import_sales --org SLUG FILE: import a .csv or .xlsx file of sales from the shell, all rows or
none, with a progress bar (the same rules as POST P/sales/import/)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agents.models import Membership, MemberStatus, Organization
from reports import imports


class Command(BaseCommand):
    help = "Import sales (CSV or XLSX) into an organization: every row or none."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("file", help="A .csv or .xlsx file with a header row.")
        parser.add_argument(
            "--as",
            dest="actor",
            default=None,
            help="Username of the member recording the import (default: the system, any member).",
        )
        parser.add_argument(
            "--max-errors", type=int, default=50, help="How many row errors to print."
        )

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with the slug {options['org']!r}.")
        actor = None
        if options["actor"]:
            actor = (
                Membership.objects.filter(
                    organization=organization, user__username=options["actor"]
                )
                .exclude(status=MemberStatus.LEFT)
                .first()
            )
            if actor is None:
                raise CommandError(f"{options['actor']!r} is not a member of {organization.slug}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        data = path.read_bytes()
        with tqdm(desc="Checking rows", unit="row", disable=options["verbosity"] == 0) as bar:
            try:
                created = imports.sales_import_file(
                    organization=organization,
                    actor=actor,
                    data=data,
                    filename=path.name,
                    progress=bar.update,
                )
            except imports.ImportFileError as exc:
                raise CommandError(str(exc)) from exc
            except imports.ImportRowsError as exc:
                bar.close()
                rows = sorted({error["row"] for error in exc.errors})
                for error in exc.errors[: options["max_errors"]]:
                    self.stderr.write(f"row {error['row']}, {error['field']}: {error['message']}")
                if len(exc.errors) > options["max_errors"]:
                    self.stderr.write(f"... and {len(exc.errors) - options['max_errors']} more")
                raise CommandError(
                    f"Nothing imported: {len(exc.errors)} errors in {len(rows)} rows."
                ) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Imported {created} sales into {organization.slug} from {path}.")
        )
