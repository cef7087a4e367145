"""import_targets --org SLUG --file FILE --plan ID --metric KEY [--parent ID] [--tier T]
[--dry-run] [--as USERNAME]: import a breakdown grid of targets (rows: members by agent code or
regions; columns: months), every cell or none, with a progress bar and a summary (the rules of
POST P/targets/import/)."""

from django.core.management.base import CommandError

from agents.management.importing import SpreadsheetImportCommand
from plans.imports import targets_import
from plans.models import SalesPlan, Target, Tier
from reports.metrics import METRICS


class Command(SpreadsheetImportCommand):
    help = "Import a grid of monthly targets (CSV or XLSX) into a plan: every cell or none."
    importer = targets_import
    what = "targets"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--plan", required=True, type=int, help="The plan's id.")
        parser.add_argument("--metric", required=True, choices=sorted(METRICS))
        parser.add_argument("--parent", type=int, default=None, help="A target to break down.")
        parser.add_argument("--tier", choices=Tier.values, default=None)

    def importer_options(self, organization, options):
        plan = SalesPlan.objects.filter(organization=organization, pk=options["plan"]).first()
        if plan is None:
            raise CommandError(f"No plan {options['plan']} in {organization.slug}.")
        parent = None
        if options["parent"] is not None:
            parent = (
                Target.objects.select_related("plan", "member", "region")
                .filter(organization=organization, pk=options["parent"])
                .first()
            )
            if parent is None:
                raise CommandError(f"No target {options['parent']} in {organization.slug}.")
        return {
            "plan": plan,
            "metric": options["metric"],
            "parent": parent,
            "tier": options["tier"],
        }
