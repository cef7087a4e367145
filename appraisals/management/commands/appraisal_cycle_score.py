"""appraisal_cycle_score --cycle ID [--cycle ID ...] | --org SLUG | --all: rescore open appraisal
cycles from the current facts and targets (what the nightly job does), with a progress bar over
the cycles and a summary of what changed. Scoring a cycle is set-based
(appraisals.services.appraisal_cycle_score); each cycle is its own transaction."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agents.errors import Conflict
from appraisals.models import AppraisalCycle, CycleStatus
from appraisals.services import appraisal_cycle_score


class Command(BaseCommand):
    help = "Rescore open appraisal cycles (quantitative scores, totals, ranks and grades)."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--cycle", type=int, action="append", help="A cycle's id (repeatable).")
        which.add_argument("--org", help="Every open cycle of this organization (slug).")
        which.add_argument("--all", action="store_true", help="Every open cycle.")

    def handle(self, *args, **options):
        cycles = AppraisalCycle.objects.select_related("organization").order_by("pk")
        if options["cycle"]:
            cycles = list(cycles.filter(pk__in=options["cycle"]))
            missing = set(options["cycle"]) - {cycle.pk for cycle in cycles}
            if missing:
                raise CommandError(f"No such cycle: {', '.join(map(str, sorted(missing)))}.")
        else:
            cycles = cycles.filter(status=CycleStatus.OPEN)
            if options["org"]:
                cycles = cycles.filter(organization__slug=options["org"])
            cycles = list(cycles)
        totals = {"scores_changed": 0, "appraisals_changed": 0}
        refused = []
        disable = options["verbosity"] == 0
        for cycle in tqdm(cycles, desc="Scoring cycles", unit="cycle", disable=disable):
            try:
                result = appraisal_cycle_score(cycle=cycle)
            except Conflict as exc:
                refused.append(f"cycle {cycle.pk}: {exc.message}")
                continue
            for key in totals:
                totals[key] += int(result.get(key, 0))
        for line in refused:
            self.stderr.write(line)
        summary = (
            f"Scored {len(cycles) - len(refused)} of {len(cycles)} cycles: "
            f"{totals['scores_changed']} scores and {totals['appraisals_changed']} appraisals "
            f"changed, {len(refused)} refused."
        )
        if refused and options["cycle"]:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
