"""Hide credentials in sources and in any text that may quote one (errors, ffmpeg's messages).

Whatever leaves the integration (entity attributes every user can read, diagnostics, logs, repair
issues) goes through here. The rule errs on the side of hiding: the whole userinfo, every query
value whose key is not known to be harmless, and every fragment.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote

MASK: Final = "***"

# Keys whose values only select a stream and never authorise anything (compared percent-decoded,
# case-insensitively). Anything else, including keys nobody thought of, is hidden.
HARMLESS_QUERY_KEYS: Final = frozenset(
    {
        "bitrate",
        "channel",
        "codec",
        "ext",
        "format",
        "fmt",
        "profile",
        "quality",
        "resolution",
        "stream",
        "subtype",
        "transport",
        "type",
    }
)

# Every pattern runs in time linear in the text: a media player's content id can be long and
# hostile. Schemes are bounded in length, and each URL is consumed by one match.
_SCHEME: Final = r"[a-zA-Z][a-zA-Z0-9+.\-]{0,31}://"
# scheme://userinfo@ : the userinfo runs to the LAST '@' before the path, query or fragment, spaces
# included (passwords may hold '@' and spaces; ffmpeg splits the same way).
_USERINFO: Final = re.compile(rf"(?P<scheme>\b{_SCHEME})[^/?#\r\n]*@")
# A URL in running text ends at whitespace or quotes; its query and fragment are what follows.
_URL_IN_TEXT: Final = re.compile(rf"(?P<head>\b{_SCHEME}[^\s?#'\"<>]*)(?P<tail>[?#][^\s'\"<>]*)?")
_WHOLE_URL: Final = re.compile(rf"(?P<head>{_SCHEME}[^?#]*)(?P<tail>[?#].*)?", re.S)
# Punctuation that ends a sentence rather than a URL ("… at http://h/x?a=1: refused").
_TRAILING_PUNCTUATION: Final = ".,:;)]"


def redact_url(text: str) -> str:
    """Hide credentials in every URL of a free text (values end at whitespace or quotes)."""
    hidden = _USERINFO.sub(rf"\g<scheme>{MASK}:{MASK}@", text)
    return _URL_IN_TEXT.sub(_hide_tail_in_text, hidden)


def redact_source(source: str) -> str:
    """Hide credentials in one whole source: like ``redact_url``, but the URL is all of ``source``,
    so query values and userinfo may hold spaces."""
    hidden = _USERINFO.sub(rf"\g<scheme>{MASK}:{MASK}@", source, count=1)
    whole = _WHOLE_URL.fullmatch(hidden)
    if whole is None:
        return redact_url(source)
    return whole["head"] + _hide_tail(whole["tail"] or "")


def is_harmless_query_key(key: str) -> bool:
    return unquote(key).strip().lower() in HARMLESS_QUERY_KEYS


def _hide_tail_in_text(match: re.Match[str]) -> str:
    tail = match["tail"]
    if not tail:
        return match[0]
    kept = tail.rstrip(_TRAILING_PUNCTUATION)
    return match["head"] + _hide_tail(kept) + tail[len(kept) :]


def _hide_tail(tail: str) -> str:
    """``?query#fragment`` with every non-harmless value and the fragment hidden."""
    query, hash_sign, fragment = tail.partition("#")
    hidden = ""
    if query.startswith("?"):
        hidden = "?" + _hide_query(query[1:])
    if hash_sign:
        hidden += "#" + (MASK if fragment else "")
    return hidden


def _hide_query(query: str) -> str:
    parts = re.split(r"([&;])", query)
    for index in range(0, len(parts), 2):
        key, equals, value = parts[index].partition("=")
        if equals:
            if value and not is_harmless_query_key(key):
                parts[index] = f"{key}={MASK}"
        elif key:
            # A bare value (``?SECRET``) is as secret as any other value.
            parts[index] = MASK
    return "".join(parts)
