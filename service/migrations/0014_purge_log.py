"""The purge log: surrogate keys purged, read by every process on SQLite without Redis."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("masthead", "0013_automatic_persisted_queries")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PurgeLog",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("keys", fields.TextField(unique=False)),
                ("origin", fields.CharField(max_length=32)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "purge_log", "app": "masthead", "pk_attr": "id",
                     "table_description": "Surrogate keys purged on SQLite without Redis: how the other processes hear of it (service/purge_relay.py)."},
            bases=["Model"],
        ),
    ]
