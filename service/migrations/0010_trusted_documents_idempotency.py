"""Trusted documents (persisted operations) and idempotency keys for addComment."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('masthead', '0009_editorial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersistedOperation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(default='', max_length=255)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'persisted_operation', 'app': 'masthead', 'pk_attr': 'id', 'table_description': "A trusted document: an operation the frontend's build registered, by its SHA-256."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Comment',
            name='idempotency_key',
            field=fields.CharField(null=True, unique=True, max_length=80),
        ),
    ]
