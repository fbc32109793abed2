from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('masthead', '0006_related_ranking')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['ip_hash', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['author_email', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['article_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['status', 'id']),
        ),
    ]
