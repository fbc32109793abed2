"""What decoupled frontends asked for (issue 12): captions, avatars, the site's origin, logo, locale and URL prefixes.

New columns only, each with a database default so existing rows read as before:
image.caption (the library's caption), page.hero_caption (an article's own caption
for its hero image), author.avatar_id and site_settings.logo_id (images from the
library; deleting the image clears them), site_settings.base_url ("" means
MASTHEAD_PUBLIC_BASE_URL), locale, tag_path_prefix and author_path_prefix.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('masthead', '0015_purge_retry')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Author',
            name='avatar',
            field=fields.ForeignKeyField('masthead.Image', source_field='avatar_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Image',
            name='caption',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Page',
            name='hero_caption',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='SiteSettings',
            name='author_path_prefix',
            field=fields.CharField(default='/authors/', db_default='/authors/', max_length=255),
        ),
        ops.AddField(
            model_name='SiteSettings',
            name='base_url',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
        ops.AddField(
            model_name='SiteSettings',
            name='locale',
            field=fields.CharField(default='en', db_default='en', max_length=35),
        ),
        ops.AddField(
            model_name='SiteSettings',
            name='logo',
            field=fields.ForeignKeyField('masthead.Image', source_field='logo_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='SiteSettings',
            name='tag_path_prefix',
            field=fields.CharField(default='/tags/', db_default='/tags/', max_length=255),
        ),
    ]
