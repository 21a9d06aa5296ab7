"""The login cookie, set by the server with HttpOnly, so no script in the page can read it.

The login run cannot send a header; it hands the browser a one-time ticket, which the
browser posts to ROUTE in the same process, and the answer sets (or deletes) the cookie.
"""

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.config import Settings

ROUTE = "/instroom/session"
# The cookies Streamlit's st.login sets for the provider's identity.
PROVIDER_COOKIES = ("_streamlit_user", "_streamlit_user_tokens")
TICKET_SECONDS = 60
TICKET_BYTES = 32


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True)
class _Ticket:
    value: str
    max_age: int
    expires: float


class TicketBook:
    """Tickets the login run issues and the route redeems, each once, within a minute."""

    def __init__(self) -> None:
        self._tickets: dict[str, _Ticket] = {}
        self._lock = threading.Lock()

    def issue(self, value: str, max_age: int) -> str:
        """A ticket for a cookie of this value (empty with max_age 0: delete it)."""
        ticket = secrets.token_urlsafe(TICKET_BYTES)
        now = _now()
        with self._lock:
            # Tickets nobody redeemed are dropped here, so the book never grows.
            self._tickets = {t: v for t, v in self._tickets.items() if v.expires > now}
            self._tickets[ticket] = _Ticket(value, max_age, now + TICKET_SECONDS)
        return ticket

    def redeem(self, ticket: str) -> _Ticket | None:
        with self._lock:
            found = self._tickets.pop(ticket, None)
        if found is None or found.expires <= _now():
            return None
        return found


# One book per process: the login run and the route run in the same server.
TICKETS = TicketBook()


def cookie_name(settings: Settings) -> str:
    """The cookie's name; over HTTPS with the __Host- prefix (Secure, Path=/, this host only)."""
    return ("__Host-" if _secure(settings) else "") + settings.cookie_name


def _secure(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def set_cookie_header(settings: Settings, value: str, max_age: int) -> str:
    secure = "; Secure" if _secure(settings) else ""
    return (
        f"{cookie_name(settings)}={value}; Max-Age={max_age}; Path=/; HttpOnly; "
        f"SameSite=Lax{secure}"
    )


def routes(settings: Settings) -> list[Route]:
    """The route that turns a ticket into the cookie, for the portal's server."""

    async def exchange(request: Request) -> Response:
        origin = request.headers.get("origin")
        # Only the portal's own pages post here (a login forced from elsewhere is refused).
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            return Response(status_code=403)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > TICKET_BYTES * 2:  # a ticket is 43 characters; read no further
                return Response(status_code=413)
        ticket = TICKETS.redeem(body.decode("ascii", "replace"))
        if ticket is None:
            return Response(status_code=403)
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        response.raw_headers.append(
            (b"set-cookie", set_cookie_header(settings, ticket.value, ticket.max_age).encode())
        )
        # A sign-in through a provider hands over once: Instroom's own cookie then governs
        # (its days, its logout), so Streamlit's identity cookies go with every exchange.
        for name in PROVIDER_COOKIES:
            response.delete_cookie(name, path="/")
        return response

    return [Route(ROUTE, exchange, methods=["POST"])]
