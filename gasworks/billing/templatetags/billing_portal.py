"""Portal helpers of billing: what the customer should know about a bill not yet issued."""

from django import template

from gasworks.metering.models import Reading, ReadingStatus

register = template.Library()


@register.simple_tag
def reading_in_review(customer):
    """The customer's oldest reading waiting for review (its bill waits for it), or None."""
    return (
        Reading.objects.filter(customer_id=customer.pk, status=ReadingStatus.FLAGGED)
        .order_by("taken_at")
        .only("taken_at")
        .first()
    )
