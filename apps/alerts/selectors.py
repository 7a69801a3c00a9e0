from __future__ import annotations

from django.db.models import Count, Max, Q

from .models import Alert, Channel, Delivery


def alerts_page() -> dict:
    """Everything the alerts page shows, in five queries whatever the number of rows."""
    channels = Channel.objects.annotate(
        sent=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.SENT)),
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        last_at=Max("deliveries__created_at"),
    )
    return {
        "channels": list(channels),
        "open_alerts": list(Alert.objects.filter(resolved_at__isnull=True)[:100]),
        "resolved_alerts": list(Alert.objects.filter(resolved_at__isnull=False)[:20]),
        "deliveries": list(Delivery.objects.select_related("channel", "alert")[:30]),
    }
