"""Database passwords hidden from whatever the kit prints, writes into a file or passes on.

A study's storage may be a URL with a password (`postgresql://kit:PASSWORD@host/db`): it is used
to connect, and shown everywhere else as `postgresql://kit:***@host/db`.
"""

from __future__ import annotations

import re

# user:PASSWORD@ in a URL, up to the last @ of the word (a password may hold an unescaped @),
# and a password=PASSWORD query parameter (libpq reads one there too)
URL_PASSWORD = re.compile(r"(\b[a-z][\w+.-]*://[^:/@\s]*:)\S*@", re.IGNORECASE)
QUERY_PASSWORD = re.compile(r"(\bpassword=)[^&\s'\"]*", re.IGNORECASE)


def url_secrets(url: str) -> list[str]:
    """The password of a database URL, and its pieces around any @ (a driver that split the
    URL at the first @ may quote the rest back), for `hide_passwords`."""
    userinfo = re.match(r"[a-z][\w+.-]*://[^:/@]*:(.*)@", url, re.IGNORECASE)
    query = re.search(r"\bpassword=([^&]*)", url, re.IGNORECASE)
    passwords = [found.group(1) for found in (userinfo, query) if found]
    pieces = {piece for password in passwords for piece in (password, *password.split("@"))}
    return sorted((piece for piece in pieces if len(piece) >= 3), key=len, reverse=True)


def hide_passwords(text: str, *secrets: str) -> str:
    """`text` with every database password as ***: in URLs (user:***@host, password=***) and
    wherever one of `secrets` appears (a driver's message may quote it). For anything the kit
    prints, writes into a file or passes to another process's command line.

    >>> hide_passwords("cannot reach postgresql://kit:pw@db/kit?password=x")
    'cannot reach postgresql://kit:***@db/kit?password=***'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = URL_PASSWORD.sub(r"\1***@", text)
    return QUERY_PASSWORD.sub(r"\1***", text)
