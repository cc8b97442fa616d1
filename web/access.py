"""Roles and region scope, enforced in one place for every view and query.

A user scoped to a county sees only that county's subtree; `scoped()` is the only way the
console builds a query over inventory-like models, and the scope test walks every view.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from inventory.models import scope_filter

WHOLE_NETWORK = "/"


def scope_path(user) -> str | None:
    """The region path a user may see ("/" for everything), or None when they may see nothing."""
    if not user.is_authenticated:
        return None
    profile = getattr(user, "profile", None)
    if profile is None:
        return WHOLE_NETWORK if user.is_superuser else None
    return profile.region.path if profile.region_id else WHOLE_NETWORK


def user_role(user) -> str | None:
    profile = getattr(user, "profile", None)
    if profile is not None:
        return profile.role
    return "admin" if user.is_superuser else None


def scoped(queryset: QuerySet, user) -> QuerySet:
    """`queryset` restricted to the user's part of the administrative tree."""
    path = scope_path(user)
    if path is None:
        return queryset.none()
    if path == WHOLE_NETWORK:
        return queryset
    return queryset.filter(scope_filter(queryset.model, path)).distinct()


def require_scope(user):
    if scope_path(user) is None:
        raise PermissionDenied("ACCESS_NO_PROFILE: this account has no role or scope; ask an administrator.")
