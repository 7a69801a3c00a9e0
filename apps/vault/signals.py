from __future__ import annotations

from django.dispatch import Signal

# Sent after a credential was changed, enabled/disabled or deleted (kwargs: slug). Whoever
# keeps something derived from a credential (the token API's cache) forgets it.
credential_changed = Signal()
