from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('masthead', '0002_fulltext')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Page',
            index=Index(fields=['parent_id', 'kind', 'live', 'published_at']),
        ),
    ]
