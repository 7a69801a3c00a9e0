"""Authenticator keys kept before in django-otp's own column (the key itself) are sealed
(apps/core/crypto.py, bound to the sealed row and its device) and the column emptied; going
back puts them in the column again."""

import django.db.models.deletion
import uuid
from django.db import migrations, models


def _aad(uid, device_id) -> str:
    return f"authenticator:{uid}:{device_id}:key"  # AuthenticatorKey.aad("key")


def seal(apps, schema_editor):
    from apps.core import crypto

    alias = schema_editor.connection.alias
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AuthenticatorKey = apps.get_model("accounts", "AuthenticatorKey")
    for device in TOTPDevice.objects.using(alias).exclude(key=""):
        uid = uuid.uuid4()
        blob = crypto.encrypt(device.key, aad=_aad(uid, device.pk))
        AuthenticatorKey.objects.using(alias).create(
            uid=uid, device=device, secret_blobs={"key": blob}, secret_hints={"key": ""}
        )
        device.key = ""
        device.save(update_fields=["key"])


def unseal(apps, schema_editor):
    from apps.core import crypto

    alias = schema_editor.connection.alias
    AuthenticatorKey = apps.get_model("accounts", "AuthenticatorKey")
    for sealed in AuthenticatorKey.objects.using(alias).select_related("device"):
        device = sealed.device
        device.key = crypto.decrypt(sealed.secret_blobs["key"], aad=_aad(sealed.uid, device.pk))
        device.save(update_fields=["key"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_recovery_codes_as_digests'),
        ('otp_totp', '0003_add_timestamps'),
    ]

    operations = [
        migrations.CreateModel(
            name='Authenticator',
            fields=[
            ],
            options={
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('otp_totp.totpdevice',),
        ),
        migrations.CreateModel(
            name='AuthenticatorKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('uid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('secret_blobs', models.JSONField(blank=True, default=dict)),
                ('secret_hints', models.JSONField(blank=True, default=dict)),
                ('device', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='sealed_key', to='otp_totp.totpdevice')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.RunPython(seal, unseal),
    ]
