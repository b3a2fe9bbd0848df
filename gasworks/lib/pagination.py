"""A paginator for lists over tables that grow with the city (bills, payments, customers).

Django's Paginator counts every matching row (SELECT COUNT(*)) to number the pages: over a
year of bills of a million customers that one count is most of the page's time, and nobody
pages through 12,000,000 bills; they filter. CappedPaginator counts at most ``cap`` rows
(COUNT(*) over a LIMIT subquery, which stops at the cap) and says "more than" beyond it; the
pages past the cap are not offered (an OFFSET that deep would walk the rows it skips)."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

CAP = 10_000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap or CAP

    @cached_property
    def _counted(self) -> int:
        """The rows up to the cap and one more (to know whether there are more), unordered: a
        count needs no order, and without one the database stops after cap + 1 rows."""
        counting = getattr(self.object_list, "count_upto", None)
        if counting is not None:  # a sequence that counts itself (system.auditlog.Merged)
            return counting(self.cap + 1)
        rows: QuerySet = self.object_list  # type: ignore[assignment]  # a queryset here, always
        return rows.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @cached_property
    def capped(self) -> bool:
        """Whether more rows match than were counted (the pager says "more than")."""
        return self._counted > self.cap
