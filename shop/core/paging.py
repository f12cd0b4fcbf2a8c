"""Pages of long lists: the page number a person asked for, whatever they typed."""

from __future__ import annotations

from flask import current_app, request
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload
from werkzeug.datastructures import MultiDict

from shop.extensions import db

# Far beyond any real list, and small enough that the OFFSET stays a number databases accept.
MAX_PAGE = 10_000


def requested_page(args: MultiDict | None = None) -> int:
    """`?page=` as a number from 1 to MAX_PAGE; anything else is page 1."""
    args = request.args if args is None else args
    try:
        page = int(args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)


class CappedPagination(SelectPagination):
    """A page of a long list whose count stops a few pages past this one (at least COUNT_FLOOR
    items): `total` is then a lower bound and `capped` says so ("200+ products"), and counting
    never reads the whole match. A page that is not full needs no count at all."""

    PAGES_AHEAD = 5
    COUNT_FLOOR = 200

    capped: bool = False

    def _query_count(self) -> int:
        if (self.items and len(self.items) < self.per_page) or (self.page == 1 and not self.items):
            return self._query_offset + len(self.items)
        return self._capped_at_bound(self._count_up_to(self._count_bound() + 1))

    def _count_bound(self) -> int:
        """Where counting stops: a few pages past this one."""
        return max(self.COUNT_FLOOR, (self.page + self.PAGES_AHEAD) * self.per_page)

    def _capped_at_bound(self, counted: int) -> int:
        """The total to show for `counted` items (counted up to one past the bound)."""
        bound = self._count_bound()
        self.capped = counted > bound
        return min(counted, bound)

    def _count_up_to(self, bound: int) -> int:
        """How many items there are, counting at most `bound` of them."""
        query = self._query_args["select"].options(lazyload("*")).order_by(None).limit(bound).subquery()
        return self._query_args["session"].execute(select(func.count()).select_from(query)).scalar_one()


def paginate(query, size_setting: str = "STAFF_PAGE_SIZE") -> CappedPagination:
    """One page of `query`; a page past the end is empty, never an error. Its count stops a few
    pages ahead (see CappedPagination): `page|counted` shows it ("200+")."""
    per_page = current_app.config[size_setting]
    return CappedPagination(
        select=query,
        session=db.session,
        page=requested_page(),
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
    )


def counted(page: CappedPagination) -> str:
    """A page's count as people read it: "12", or "200+" when counting stopped there."""
    return f"{page.total}+" if getattr(page, "capped", False) else str(page.total)
