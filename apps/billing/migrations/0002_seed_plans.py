"""Seed the shipped plans (Free, Team, Business, Enterprise); operators edit them in the admin."""

from django.db import migrations

from apps.billing.plans import seed


def seed_plans(apps, schema_editor):
    seed(apps.get_model("billing", "Plan"))


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
