from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from service.models import CommentStatus, PageKind
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Author',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=255)),
                ('slug', fields.CharField(unique=True, max_length=255)),
                ('bio', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'author', 'app': 'masthead', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Image',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(default='', max_length=255)),
                ('url', fields.CharField(max_length=1024)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('alt', fields.CharField(default='', max_length=512)),
                ('credit', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'image', 'app': 'masthead', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Page',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='HOME: home\nSECTION: section\nARTICLE: article', enum_type=PageKind, max_length=16)),
                ('parent', fields.ForeignKeyField('masthead.Page', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('path', fields.CharField(max_length=255)),
                ('depth', fields.IntField()),
                ('position', fields.IntField(default=0)),
                ('slug', fields.CharField(max_length=255)),
                ('url_path', fields.CharField(max_length=1024)),
                ('title', fields.CharField(max_length=255)),
                ('seo_title', fields.CharField(default='', max_length=255)),
                ('search_description', fields.TextField(default='', unique=False)),
                ('live', fields.BooleanField(default=True)),
                ('first_published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('description', fields.TextField(default='', unique=False)),
                ('headline', fields.CharField(default='', max_length=512)),
                ('summary', fields.TextField(default='', unique=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('source', fields.CharField(default='', max_length=255)),
                ('reading_time', fields.IntField(default=0)),
                ('comments_enabled', fields.BooleanField(default=True)),
                ('hero_image', fields.ForeignKeyField('masthead.Image', source_field='hero_image_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('body', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('body_text', fields.TextField(default='', unique=False)),
                ('comment_count', fields.IntField(default=0)),
                ('thread_count', fields.IntField(default=0)),
            ],
            options={'table': 'page', 'app': 'masthead', 'unique_together': (('url_path',),), 'indexes': [Index(fields=['parent_id', 'position']), Index(fields=['path']), Index(fields=['kind', 'live', 'published_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ArticleAuthor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('article', fields.ForeignKeyField('masthead.Page', source_field='article_id', db_constraint=True, to_field='id', related_name='author_links', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('masthead.Author', source_field='author_id', db_constraint=True, to_field='id', related_name='article_links', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'article_author', 'app': 'masthead', 'unique_together': (('article_id', 'author_id'),), 'indexes': [Index(fields=['author_id', 'article_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ArticleRelation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('article', fields.ForeignKeyField('masthead.Page', source_field='article_id', db_constraint=True, to_field='id', related_name='related_links', on_delete=OnDelete.CASCADE)),
                ('related', fields.ForeignKeyField('masthead.Page', source_field='related_id', db_constraint=True, to_field='id', related_name='related_from', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'article_relation', 'app': 'masthead', 'unique_together': (('article_id', 'related_id'),), 'indexes': [Index(fields=['related_id'])], 'pk_attr': 'id', 'table_description': "An editor's choice of related article, in the editor's order."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Comment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('article', fields.ForeignKeyField('masthead.Page', source_field='article_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('parent', fields.ForeignKeyField('masthead.Comment', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.CASCADE)),
                ('author_name', fields.CharField(max_length=80)),
                ('author_email', fields.CharField(max_length=254)),
                ('author_url', fields.CharField(default='', max_length=1024)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=CommentStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nSPAM: spam\nREMOVED: removed', enum_type=CommentStatus, max_length=16)),
                ('ip_hash', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'comment', 'app': 'masthead', 'indexes': [Index(fields=['article_id', 'status', 'parent_id', 'created_at']), Index(fields=['parent_id', 'status', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SiteSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(default='Masthead', max_length=255)),
                ('tagline', fields.CharField(default='', max_length=255)),
                ('social_links', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'site_settings', 'app': 'masthead', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=255)),
                ('slug', fields.CharField(unique=True, max_length=255)),
            ],
            options={'table': 'tag', 'app': 'masthead', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ArticleTag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('article', fields.ForeignKeyField('masthead.Page', source_field='article_id', db_constraint=True, to_field='id', related_name='tag_links', on_delete=OnDelete.CASCADE)),
                ('tag', fields.ForeignKeyField('masthead.Tag', source_field='tag_id', db_constraint=True, to_field='id', related_name='article_links', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'article_tag', 'app': 'masthead', 'unique_together': (('article_id', 'tag_id'),), 'indexes': [Index(fields=['tag_id', 'article_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
