"""Security headers on every answer (Flask-Talisman): a strict Content-Security-Policy, no
framing, no MIME sniffing, no referrer outside the site, HSTS over HTTPS.

The pages can afford a strict policy because they were built for a closed network: every
script, style sheet and font is served by the app itself (vendored, no CDN), no template has
an inline script or style attribute (configuration reaches scripts as a JSON data block,
which a policy does not execute), and the scripts change styles only through the DOM. So
``'self'`` is the whole policy, widened only by what the deployment configures:
- ``MAP_TILE_URL``: the tile server's origin, for the 115 board's map images;
- the Twilio softphone (``TWILIO_API_KEY`` …): Twilio's signalling and media endpoints,
  which the Voice SDK reaches over HTTPS and WebSocket.
Socket.IO's WebSocket to this same host is covered by ``'self'`` (CSP Level 3).

Referrers stay inside the site: a public tracking page's address holds the tracking code,
which must not travel to whatever site a link leads to. HTTPS itself is the reverse proxy's
business (``force_https`` off): HSTS is sent on answers that went out over HTTPS, which the app
knows behind a proxy with ``TRUSTED_PROXY_HOPS``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask_talisman import Talisman

from app.config import softphone_missing

TWILIO = ("https://*.twilio.com", "wss://*.twilio.com")


def policy(config) -> dict[str, str]:
    """The Content-Security-Policy for this deployment's settings."""
    images, connect, media = ["'self'", "data:"], ["'self'"], ["'self'"]
    if tiles := config.get("MAP_TILE_URL"):
        parts = urlsplit(tiles.replace("{s}", "*"))  # Leaflet's {s} subdomain: allow them all
        images.append(f"{parts.scheme}://{parts.netloc}")
    if not softphone_missing(config):
        connect += TWILIO
        media += TWILIO[:1]  # the SDK's ringing and connection sounds
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "connect-src": " ".join(connect),
        "media-src": " ".join(media),
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_app(app: Flask) -> None:
    Talisman(
        app,
        force_https=False,  # TLS ends at the reverse proxy, which redirects
        frame_options="DENY",
        content_security_policy=policy(app.config),
        referrer_policy="same-origin",
        # The microphone for the softphone, from this site only; nothing else.
        permissions_policy={"microphone": "(self)", "camera": "()", "geolocation": "()",
                            "browsing-topics": "()"},
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
