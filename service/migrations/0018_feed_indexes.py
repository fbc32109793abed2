"""Sitemaps read from one index (service/sitemaps.py).

Public articles by date with everything a sitemap needs: the visibility columns
(tree_live, public_from, public_until), id for keyset paging, last_published_at
for <lastmod> and url_path for <loc>. A month's count and its URLs then come from
the index alone: page rows are wide (bodies), and the columns added after the body
sit in overflow pages, so reading them row by row cost half a second a sitemap
index at 100,000 articles on SQLite.
"""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('masthead', '0017_menus')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Page',
            index=Index(fields=['kind', 'tree_live', 'published_at', 'id', 'public_from', 'public_until',
                                'last_published_at', 'url_path']),
        ),
    ]
