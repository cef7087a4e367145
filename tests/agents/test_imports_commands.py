"""manage.py import_members / import_products / import_customers, and demo_load's progress."""

import pytest
from django.core.management import CommandError, call_command

from agents.models import Customer, Membership, Product

pytestmark = pytest.mark.django_db


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_members_dry_run_then_real(world, tmp_path, capsys):
    path = write(tmp_path, "m.csv", "code,username,upline\nK-2,kay2,K-1\nK-1,kay1,A-001\n")
    call_command("import_members", "--org", "acme", "--file", path, "--dry-run")
    assert "2 to create, 0 to update, 0 errors" in capsys.readouterr().out
    assert not Membership.objects.filter(code="K-1").exists()
    call_command("import_members", "--org", "acme", "--file", path)
    assert "2 created, 0 updated, 0 errors" in capsys.readouterr().out
    assert Membership.objects.get(code="K-2").upline.code == "K-1"


def test_import_errors_are_printed_and_nothing_is_written(world, tmp_path, capsys):
    path = write(tmp_path, "p.csv", "sku,name,price\nA,,1\nB,Bee,x\n")
    with pytest.raises(CommandError, match="2 errors in 2 rows"):
        call_command("import_products", "--org", "acme", "--file", path)
    err = capsys.readouterr().err
    assert "row 2, name" in err and "row 3, price" in err
    assert not Product.objects.exists()


def test_import_customers_as_a_leader(world, tmp_path, capsys):
    world.other_agent.code = "B-1"
    world.other_agent.save()
    path = write(tmp_path, "c.csv", "name,owner\nNear,A-001\nFar,B-1\n")
    with pytest.raises(CommandError, match="1 errors"):
        call_command("import_customers", "--org", "acme", "--file", path, "--as", "leader")
    path = write(tmp_path, "c.csv", "name,owner\nNear,A-001\n")
    call_command("import_customers", "--org", "acme", "--file", path, "--as", "leader")
    assert Customer.objects.get(name="Near").owner == world.agent


def test_command_arguments(world, tmp_path):
    path = write(tmp_path, "p.csv", "sku,name\nA,Aa\n")
    with pytest.raises(CommandError, match="No organization"):
        call_command("import_products", "--org", "nope", "--file", path)
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_products", "--org", "acme", "--file", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="not a member"):
        call_command("import_products", "--org", "acme", "--file", path, "--as", "outsider")
    with pytest.raises(CommandError, match="members"):
        call_command("import_members", "--org", "acme", "--file", path, "--as", "leader")
