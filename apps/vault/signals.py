from __future__ import annotations

from django.dispatch import Signal

# Sent after a credential was changed, enabled/disabled or deleted (kwargs: slug). Whoever
# keeps something derived from a credential (the token API's cache) forgets it.
credential_changed = Signal()

# Sent when "test connection" fetched a token (kwargs: credential, grant, actor). The token
# centre keeps it as the current token, as if it had fetched it itself.
token_fetched = Signal()

# Sent when "test connection" was refused by the platform (kwargs: credential, decoded):
# the token centre shows the refusal on the token page, as a failed refresh would be shown.
token_fetch_refused = Signal()
