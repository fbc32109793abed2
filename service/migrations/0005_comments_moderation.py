from tortoise import migrations
from tortoise.migrations import operations as ops
from service.models import Role
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('masthead', '0004_content_version')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('role', fields.CharEnumField(description='READER: reader\nMODERATOR: moderator\nEDITOR: editor\nPUBLISHER: publisher\nADMIN: admin', enum_type=Role, max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'masthead', 'pk_attr': 'id', 'table_description': 'A bearer token. Only the SHA-256 of the secret is stored.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='SiteSettings',
            name='auto_approve_known_commenters',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
