"""manage.py appraisal_cycle_score: rescoring open cycles with a progress bar and a summary."""

import pytest
from django.core.management import CommandError, call_command

from appraisals.models import CycleStatus
from tests.appraisals.factories import cycle_open

pytestmark = pytest.mark.django_db


def test_rescore_a_cycle_after_new_sales(world, template, target_for, sale, capsys):
    target_for(world.agent, 10000)
    sale(world.agent, "8000")
    cycle = cycle_open(template)
    call_command("appraisal_cycle_score", "--cycle", str(cycle.pk))
    assert "Scored 1 of 1 cycles: 0 scores and 0 appraisals changed" in capsys.readouterr().out
    sale(world.agent, "1000")
    call_command("appraisal_cycle_score", "--org", world.org.slug)
    assert "Scored 1 of 1 cycles: 1 scores and 1 appraisals changed" in capsys.readouterr().out


def test_a_cycle_that_is_not_open_is_refused(world, template):
    cycle = cycle_open(template)
    cycle.status = CycleStatus.FINALIZED
    cycle.save()
    with pytest.raises(CommandError, match="1 refused"):
        call_command("appraisal_cycle_score", "--cycle", str(cycle.pk))
    with pytest.raises(CommandError, match="No such cycle"):
        call_command("appraisal_cycle_score", "--cycle", "999999")
    call_command("appraisal_cycle_score", "--all")  # no open cycle: nothing to do
