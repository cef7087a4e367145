"""`manage.py bench_seed --agents N --days D --seed S`: the benchmark organization (bench/seed.py).

It lives in reports, whose management commands can import every app; the code is in bench/."""

from django.core.management.base import BaseCommand

from agents.models import Organization
from bench import seed as generator


class Command(BaseCommand):
    help = "Seed the benchmark organization 'bench' (replacing an older one)."

    def add_arguments(self, parser):
        parser.add_argument("--agents", type=int, default=2000)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--if-needed",
            action="store_true",
            help="do nothing when the organization is already seeded at this size and seed",
        )

    def handle(self, *args, agents, days, seed: int, if_needed, **options):
        size = {"agents": agents, "days": days, "seed": seed}
        existing = Organization.objects.filter(slug=generator.SLUG).first()
        if if_needed and existing is not None:
            current = generator.seeded_size(existing) or {}
            wanted = {**size, "layout": generator.LAYOUT}
            if {key: current.get(key) for key in wanted} == wanted:
                self.stdout.write(f"bench organization already seeded at {size}")
                return
        generator.seed(agents=agents, days=days, seed=seed)
        self.stdout.write(self.style.SUCCESS(f"seeded bench organization at {size}"))
