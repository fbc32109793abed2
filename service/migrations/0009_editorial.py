"""Editorial workflow: revisions, schedules, redirects, webhooks, uploads, imports.

Also widens the content-version trigger on pages to the scheduling window, whose
changes alter what readers see; draft bookkeeping (revision ids, the unpublished
changes flag) stays out of it, so saving a draft keeps read caches warm.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

_OLD = (
    "kind, parent_id, path, depth, position, slug, url_path, title, seo_title, search_description, live, "
    "first_published_at, last_published_at, description, headline, summary, published_at, source, "
    "reading_time, comments_enabled, hero_image_id, body"
)
_NEW = _OLD + ", go_live_at, expire_at"
_BUMP = "UPDATE content_version SET value = value + 1 WHERE id = 1"


def _trigger(columns: str):
    async def run(apps, schema_editor) -> None:
        client = schema_editor.client
        if client.capabilities.dialect == "sqlite":
            statements = [
                "DROP TRIGGER IF EXISTS content_version_page_update",
                f"CREATE TRIGGER content_version_page_update AFTER UPDATE OF {columns} ON page BEGIN {_BUMP}; END",
            ]
        else:
            statements = [
                "DROP TRIGGER IF EXISTS content_version_page ON page",
                f"CREATE TRIGGER content_version_page AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF {columns} "
                "ON page FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()",
            ]
        for statement in statements:
            await client.execute_query(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [('masthead', '0008_replies_partial_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PageRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('page', fields.ForeignKeyField('masthead.Page', source_field='page_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('content', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('created_by', fields.CharField(default='', max_length=100)),
                ('message', fields.CharField(default='', max_length=255)),
            ],
            options={'table': 'page_revision', 'app': 'masthead', 'unique_together': (('page_id', 'number'),), 'pk_attr': 'id', 'table_description': "One saved version of a page's editable content, numbered per page."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Redirect',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('old_path', fields.CharField(unique=True, max_length=1024)),
                ('page', fields.ForeignKeyField('masthead.Page', source_field='page_id', null=True, db_constraint=True, to_field='id', related_name='redirects_in', on_delete=OnDelete.CASCADE)),
                ('target_path', fields.CharField(default='', max_length=1024)),
                ('is_permanent', fields.BooleanField(default=True)),
                ('automatic', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'redirect', 'app': 'masthead', 'pk_attr': 'id', 'table_description': 'An old path that now lives elsewhere: at a page (which it follows) or a path.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Webhook',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=1024)),
                ('events', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('secret', fields.CharField(max_length=128)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'webhook', 'app': 'masthead', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webhook', fields.ForeignKeyField('masthead.Webhook', source_field='webhook_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('delivery_id', fields.CharField(unique=True, max_length=36)),
                ('event', fields.CharField(max_length=64)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('last_status_code', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'masthead', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One event for one endpoint: queued in the database, retried until delivered.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Comment',
            name='external_id',
            field=fields.CharField(null=True, unique=True, max_length=255),
        ),
        ops.AddField(
            model_name='Image',
            name='file',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
        ops.AddField(
            model_name='Image',
            name='file_size',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Image',
            name='focal_x',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Image',
            name='focal_y',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Image',
            name='format',
            field=fields.CharField(default='', db_default='', max_length=16),
        ),
        ops.AddField(
            model_name='Page',
            name='expire_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Page',
            name='external_id',
            field=fields.CharField(null=True, unique=True, max_length=255),
        ),
        ops.AddField(
            model_name='Page',
            name='go_live_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Page',
            name='has_unpublished_changes',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Page',
            name='latest_revision_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Page',
            name='live_revision_id',
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name='Page',
            index=Index(fields=['go_live_at']),
        ),
        ops.AddIndex(
            model_name='Page',
            index=Index(fields=['expire_at']),
        ),
        ops.RunPython(_trigger(_NEW), _trigger(_OLD)),
    ]
