"""Recovery codes kept before as django-otp keeps them (the code itself) are kept as keyed
digests from here on, like the ones made now."""

from django.db import migrations


def to_digests(apps, schema_editor):
    from apps.accounts.second_factor import _digests

    StaticToken = apps.get_model("otp_static", "StaticToken")
    # On the connection migrating (release's owner role), not the application's default.
    for token in StaticToken.objects.using(schema_editor.connection.alias).all():
        is_digest = len(token.token) == 16 and all(c in "0123456789abcdef" for c in token.token)
        if not is_digest:
            token.token = _digests(token.token)[0]
            token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_sign_in_passwords"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(to_digests, migrations.RunPython.noop)]
