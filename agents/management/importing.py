"""The shared shape of the spreadsheet import commands (import_members, import_products,
import_customers, import_targets): `--org`, `--file`, `--dry-run`, `--as`, a tqdm progress bar
over the rows, the row errors (nothing written), and a summary line at the end."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from tqdm import tqdm

from agents.errors import Conflict
from agents.imports import import_file
from agents.models import Membership, MemberStatus, Organization
from agents.spreadsheets import ImportFileError, ImportRowsError


class SpreadsheetImportCommand(BaseCommand):
    #: The importer: f(*, organization, actor, rows, dry_run, progress, **options) -> ImportResult
    importer = None
    what = "rows"

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--file", required=True, help="A .csv or .xlsx file with a header row.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and report; write nothing."
        )
        parser.add_argument(
            "--as",
            dest="actor",
            default=None,
            help="Username of the member doing the import, whose rules apply (default: the "
            "system, with an owner's powers).",
        )
        parser.add_argument(
            "--max-errors", type=int, default=50, help="How many row errors to print."
        )

    def importer_options(self, organization: Organization, options: dict) -> dict:
        return {}

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
                .select_related("user")
                .first()
            )
            if actor is None:
                raise CommandError(f"{options['actor']!r} is not a member of {organization.slug}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        extra = self.importer_options(organization, options)
        with tqdm(desc="Checking rows", unit="row", disable=options["verbosity"] == 0) as bar:
            try:
                result = import_file(
                    type(self).importer,
                    data=path.read_bytes(),
                    filename=path.name,
                    organization=organization,
                    actor=actor,
                    dry_run=options["dry_run"],
                    progress=bar.update,
                    **extra,
                )
            except ImportFileError as exc:
                raise CommandError(str(exc)) from exc
            except ImportRowsError as exc:
                bar.close()
                self._print_errors(exc.errors, options["max_errors"])
                rows = len({error["row"] for error in exc.errors})
                raise CommandError(
                    f"Nothing imported: 0 created, 0 updated, {len(exc.errors)} errors "
                    f"in {rows} rows."
                ) from exc
            except ValidationError as exc:
                raise CommandError("; ".join(_messages(exc))) from exc
            except (PermissionDenied, Conflict) as exc:
                raise CommandError(str(getattr(exc, "message", exc))) from exc
            except IntegrityError as exc:
                raise CommandError(
                    "The data changed during the import (a concurrent write): try again."
                ) from exc
        if result.dry_run:
            self.stdout.write(
                f"Dry run of {path.name} for {organization.slug}: {result.created} to create, "
                f"{result.updated} to update, 0 errors; nothing was written."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {self.what} into {organization.slug} from {path.name}: "
                f"{result.created} created, {result.updated} updated, 0 errors."
            )
        )

    def _print_errors(self, errors: list[dict], limit: int) -> None:
        for error in errors[:limit]:
            self.stderr.write(f"row {error['row']}, {error['field']}: {error['message']}")
        if len(errors) > limit:
            self.stderr.write(f"... and {len(errors) - limit} more")


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
    return list(exc.messages)
