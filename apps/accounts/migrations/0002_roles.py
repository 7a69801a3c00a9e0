from django.db import migrations

ROLES = ["admin", "developer", "auditor"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    db = schema_editor.connection.alias  # the migrating role's connection
    for name in ROLES:
        Group.objects.using(db).get_or_create(name=name)


def remove_roles(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(db).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, remove_roles)]
