"""Automatic persisted queries: documents clients registered, told apart from the trusted ones."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("masthead", "0012_media_access")]

    initial = False

    operations = [
        ops.AddField(
            model_name="PersistedOperation",
            name="automatic",
            field=fields.BooleanField(default=False),
        ),
    ]
