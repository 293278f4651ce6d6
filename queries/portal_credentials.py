"""An LEA's parent-portal credential, as its coordinator sees and makes it.

The SIS vendor's parent portal fetches SSRs from ``elpac portal-api`` with this credential
(``data.catalog.portal_credentials``: one per LEA; a new one stops every earlier one). Only a
user with an LEA coordinator's rights, for an LEA their scope covers whole, may see or make it
(``queries.access``): an aggregate-only viewer, a teacher or a site administrator is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from data.catalog import portal_credentials
from queries.access import covers_lea, may_load, require_lea, require_loads

if TYPE_CHECKING:
    from data.catalog.portal_credentials import CredentialInfo
    from data.results.store import Store
    from queries.access import User

_WHAT = "The parent-portal credential"


def may_manage_credential(user: User, lea: str) -> bool:
    """Whether the user may see and make the LEA's credential (the functions below say why)."""
    return may_load(user) and covers_lea(user, lea)


def read_portal_credential(store: Store, user: User, lea: str) -> CredentialInfo | None:
    """When and by whom the LEA's current credential was made (never the secret), or ``None``.

    ``ScopeError`` if the user may not manage the LEA's credential.
    """
    require_loads(user, _WHAT)
    require_lea(user, lea, _WHAT)
    return portal_credentials.credential_info(store, lea)


def make_portal_credential(store: Store, user: User, lea: str) -> str:
    """A new credential for the LEA's parent portal, returned once; earlier ones stop working.

    Made by ``user.name`` (audited). ``ScopeError`` if the user may not manage the LEA's
    credential; ``InputError`` if ``lea`` is not a 14-digit CDS code.
    """
    require_loads(user, _WHAT)
    require_lea(user, lea, _WHAT)
    return portal_credentials.generate_credential(store, lea, created_by=user.name)
