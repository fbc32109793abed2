"""The purge retry queue: surrogate keys a Varnish did not take, retried with backoff (service/varnish.py)."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("masthead", "0014_purge_log")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PurgeRetry",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("target", fields.CharField(max_length=1024)),
                ("keys", fields.TextField(unique=False)),
                ("attempts", fields.IntField(default=1)),
                ("next_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_error", fields.TextField(default="", unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "purge_retry", "app": "masthead", "pk_attr": "id",
                     "indexes": [Index(fields=["next_attempt_at"]), Index(fields=["target", "next_attempt_at"])],
                     "table_description": "Surrogate keys a Varnish did not take: retried with backoff until it does (service/varnish.py)."},
            bases=["Model"],
        ),
    ]
