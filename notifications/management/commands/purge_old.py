"""purge_old [--dry-run] [--batch-size N]: the nightly retention purge, from the shell
(notifications/retention.py: sent/failed deliveries, read and long-unread notifications,
finished job runs past their retention; never anything pending or inside the dedupe window)."""

from django.core.management.base import BaseCommand, CommandError

from notifications.retention import retention_cutoffs, retention_purge


class Command(BaseCommand):
    help = (
        "Delete deliveries, notifications and job runs past their retention "
        "(RETENTION_*_DAYS); --dry-run only prints how many would go."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Rows per DELETE (RETENTION_BATCH_SIZE)."
        )

    def handle(self, *args, **options):
        batch_size = options["batch_size"]
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be a positive number.")
        dry_run = options["dry_run"]
        cutoffs = retention_cutoffs()
        result = retention_purge(dry_run=dry_run, batch_size=batch_size)
        verb = "would delete" if dry_run else "deleted"
        rows = (
            ("deliveries", result.deliveries, cutoffs.deliveries),
            ("notifications", result.notifications, cutoffs.read_notifications),
            ("job runs", result.job_runs, cutoffs.job_runs),
        )
        for name, count, cutoff in rows:
            self.stdout.write(f"{verb} {count} {name} (created before {cutoff:%Y-%m-%d %H:%M} UTC)")
        if not dry_run:
            self.stdout.write(f"in {result.batches} batches")
