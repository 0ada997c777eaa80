"""Storage URLs: normalisation, the database driver, password redaction, and errors in words.

Example:
    >>> redact("postgresql://alice:s3cret@db.example.org:5432/studies")
    'postgresql://alice:***@db.example.org:5432/studies'
    >>> rdb_url("postgres://alice@db/studies")
    'postgresql+psycopg2://alice@db/studies'
"""

from __future__ import annotations

import re
from typing import Callable


from ...errors import StorageError

#: What --storage accepts; appended to a message only when the URL itself could not be read.
URL_HINT = "use sqlite:///file.db, postgresql://user:password@host[:port]/db, or journal:path"


_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]*")
_KV_PASSWORD_RE = re.compile(r"(?i)\b(password\s*=\s*)('[^']*'|[^\s&;,)]+)")


def _redact_url(m: re.Match) -> str:
    scheme, rest = m.group(0).split("://", 1)
    # The last "@" ends the user info even when a password holds an unescaped "@" or "/":
    # redacting too much (a query holding "@") is harmless, too little is not.
    at = rest.rfind("@")
    if at > 0:
        userinfo = rest[:at]
        colon = userinfo.find(":")
        if colon >= 0 and "/" not in userinfo[:colon]:
            rest = f"{userinfo[:colon]}:***{rest[at:]}"
    rest = re.sub(r"(?i)([?&;]password=)[^&;]*", r"\1***", rest)
    return f"{scheme}://{rest}"


def redact(url: str) -> str:
    """The storage URL (or any text holding URLs) with passwords replaced by ``***``.

    Covers ``user:password@`` in any ``scheme://`` URL (also an unescaped ``@`` in the password),
    ``?password=`` query parameters and libpq ``password=...`` settings.

    Example:
        >>> redact("postgresql://alice:s3cret@db.example.org:5432/studies")
        'postgresql://alice:***@db.example.org:5432/studies'
        >>> redact("cannot open postgresql+psycopg2://bob:p@ss/w@host/db?sslmode=require")
        'cannot open postgresql+psycopg2://bob:***@host/db?sslmode=require'
        >>> redact("sqlite:///runs/regnet-space.db")
        'sqlite:///runs/regnet-space.db'
    """
    text = _URL_RE.sub(_redact_url, str(url))
    return _KV_PASSWORD_RE.sub(r"\1***", text)


def _scrub(text: str, url: str | None) -> str:
    """``text`` with URLs redacted and the literal password of ``url`` (as written and decoded)
    removed wherever a driver or SQLAlchemy repeated it."""
    text = redact(text)
    for secret in _passwords(url):
        if len(secret) >= 3:  # shorter ones would garble the message; redact() caught URLs
            text = text.replace(secret, "***")
    return text


def _passwords(url: str | None) -> list[str]:
    if not url or "://" not in url:
        return []
    out = []
    rest = url.split("://", 1)[1]
    at = rest.rfind("@")
    if at > 0 and ":" in rest[:at]:
        out.append(rest[:at].split(":", 1)[1])
    out += re.findall(r"(?i)[?&;]password=([^&;]*)", rest)
    from urllib.parse import unquote
    return [p for s in out for p in {s, unquote(s)} if p]


def normalize_storage(url: str) -> str:
    """Plain ``*.db``/``*.sqlite`` paths become ``sqlite:///path``; everything else is kept.

    Example:
        >>> normalize_storage("runs/sweep.db")
        'sqlite:///runs/sweep.db'
    """
    url = str(url).strip()
    if not url:
        raise StorageError(f"empty --storage: {URL_HINT}")
    if "://" not in url and not url.startswith("journal:") and \
            url.lower().endswith((".db", ".sqlite", ".sqlite3")):
        return f"sqlite:///{url}"
    return url


def rdb_url(url: str) -> str:
    """The SQLAlchemy URL :func:`open_storage` connects with: a PostgreSQL URL that names no
    driver (``postgresql://`` or ``postgres://``) gets ``+psycopg2``; any other URL is kept.

    Why: SQLAlchemy 2.1 connects a bare ``postgresql://`` with psycopg (version 3), while this
    package installs psycopg2-binary (the ``all`` extra), so a bare URL would fail with "Failed to
    import DB access module"; and ``postgres://`` (Heroku style) is no SQLAlchemy dialect at all.
    Naming the driver also keeps every machine of a sweep on the same one. A driver the user names
    (``postgresql+psycopg://``, ``postgresql+pg8000://``) is kept as given.

    Example:
        >>> rdb_url("postgres://alice@db.example.org/studies")
        'postgresql+psycopg2://alice@db.example.org/studies'
        >>> rdb_url("postgresql+psycopg://alice@db.example.org/studies")
        'postgresql+psycopg://alice@db.example.org/studies'
    """
    url = normalize_storage(url)
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    if scheme.lower().startswith("postgres+"):
        return f"postgresql+{scheme.split('+', 1)[1]}://{rest}"
    return url


def _sqlite_path(url: str) -> str | None:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):].split("?", 1)[0]
        return None if path in ("", ":memory:") else path
    return None


def _journal_path(url: str) -> str | None:
    if url.startswith("journal:"):
        path = url[len("journal:"):]
        return path[2:] if path.startswith("//") else path
    if "://" not in url and url.lower().endswith((".journal", ".log")):
        return url
    return None


# ------------------------------------------------------------------------------ errors
def _chain(e: BaseException) -> list[BaseException]:
    """``e``, the driver error SQLAlchemy wraps (``.orig``) and the causes, without repeats."""
    out: list[BaseException] = []
    todo: list[BaseException | None] = [e]
    while todo:
        x = todo.pop(0)
        if x is None or any(x is y for y in out):
            continue
        out.append(x)
        todo += [getattr(x, "orig", None), x.__cause__, x.__context__]
    return out


def _driver_text(e: BaseException) -> str:
    """The most specific message in the chain: the DB-API driver's own, if any."""
    chain = _chain(e)
    orig = [x for x in chain if type(x).__module__.split(".")[0] in ("psycopg2", "psycopg",
                                                                      "sqlite3", "pymysql",
                                                                      "MySQLdb", "pg8000")]
    best = orig[0] if orig else chain[0]
    if not str(best) and len(chain) > 1:
        best = chain[1]
    text = " ".join(str(best).split())
    text = re.sub(r"\(Background on this error.*$", "", text).strip()
    text = re.sub(r"^\([\w.]+\)\s*", "", text)  # "(psycopg2.OperationalError) ..."
    return text or type(best).__name__


def explain_storage_error(e: BaseException, url: str | None,
                          doing: str = "cannot open storage") -> str:
    """One line saying what went wrong when opening or using the storage ``url`` (password
    redacted): connection refused, authentication failed, unknown database or host, driver
    missing, ... The URL-format hint is added only when the URL itself could not be read.
    ``doing`` starts the line.

    Example:
        >>> explain_storage_error(ImportError("No module named 'psycopg2'", name="psycopg2"),
        ...                       "postgresql://alice:s3cret@db/x")  # doctest: +ELLIPSIS
        "cannot open storage 'postgresql://alice:***@db/x': the database driver psycopg2 is not ..."
    """
    where = f"{doing} {redact(url)!r}" if url else doing
    chain = _chain(e)
    imports = [x for x in chain if isinstance(x, ImportError)]
    # Optuna wraps the ModuleNotFoundError (which names the module) in an ImportError of its own
    named = [x for x in imports if getattr(x, "name", None)]
    missing = (named or imports or [None])[0]
    if missing is not None:
        name = getattr(missing, "name", None)
        if not name:
            found = re.search(r"No module named '([\w.]+)'", str(missing))
            name = found.group(1) if found else None
        name = (name or "the driver").split(".")[0]
        pip = {"psycopg2": "psycopg2-binary", "psycopg": "'psycopg[binary]'",
               "MySQLdb": "mysqlclient"}.get(name, name)
        other = ("e.g. postgresql+psycopg2://" if str(url).lower().startswith("postgres")
                 else "dialect+driver://")
        return _scrub(f"{where}: the database driver {name} is not installed; pip install {pip} "
                      f"(or name an installed driver in the URL: {other})", url)
    text = _driver_text(e)
    low = text.lower()
    patterns: list[tuple[str, Callable[[re.Match], str]]] = [
        (r'connection to server at "([^"]+)", port (\d+) failed: connection refused',
         lambda m: f"connection refused by {m.group(1)}:{m.group(2)} (is the database server "
                   f"running there and listening on that address and port?)"),
        (r"connection refused", lambda m: "connection refused (is the database server running "
                                          "and listening on that host and port?)"),
        (r'password authentication failed for user "([^"]+)"',
         lambda m: f"authentication failed for user {m.group(1)!r} (check the user name and "
                   f"password in the URL)"),
        (r'(?:no password supplied|fe_sendauth)',
         lambda m: "the server asks for a password and the URL gives none "
                   "(write it as user:password@host)"),
        (r'no pg_hba\.conf entry for host "([^"]+)"',
         lambda m: f"the server does not accept connections from {m.group(1)} (pg_hba.conf)"),
        (r'database "([^"]+)" does not exist',
         lambda m: f"database {m.group(1)!r} does not exist (create it first: createdb "
                   f"{m.group(1)})"),
        (r'role "([^"]+)" does not exist',
         lambda m: f"database user {m.group(1)!r} does not exist"),
        (r'could not translate host name "([^"]+)"',
         lambda m: f"unknown host {m.group(1)!r}"),
        (r"timeout expired|timed out", lambda m: "the connection timed out (host unreachable "
                                                 "or a firewall in the way?)"),
        (r"unable to open database file",
         lambda m: "unable to open the database file (does the folder exist, is it writable?)"),
        (r"file is not a database", lambda m: "the file is not a SQLite database"),
    ]
    for pattern, say in patterns:
        m = re.search(pattern, text, flags=re.IGNORECASE)
        if m:
            return _scrub(f"{where}: {say(m)}", url)
    unreadable = any(_is_url_problem(x) for x in chain)
    what = text if not unreadable else f"the URL cannot be read ({text})"
    port = re.search(r"invalid literal for int\(\) with base 10: '([^']*)'", text)
    if unreadable and port:
        what = f"the port {port.group(1)!r} is not a number"
    if "can't load plugin" in low:
        what = f"unknown database kind in the URL ({text})"
    return _scrub(f"{where}: {what}", url) + (f"; {URL_HINT}" if unreadable else "")


def _is_url_problem(e: BaseException) -> bool:
    try:
        import sqlalchemy.exc as sa_exc
    except ImportError:  # pragma: no cover - optuna depends on SQLAlchemy
        return False
    return isinstance(e, sa_exc.ArgumentError) or (
        type(e) is ValueError and "invalid literal for int()" in str(e))


def _check_url(url: str, original: str) -> None:
    """Parse ``url`` as SQLAlchemy will, before connecting, so a malformed URL fails with the
    format hint (and an unescaped ``@`` in a password does not become part of the host name,
    which the driver's "unknown host" message would then print)."""
    from sqlalchemy.engine import make_url
    try:
        parsed = make_url(url)
    except Exception as e:
        raise StorageError(explain_storage_error(e, original)) from None
    if parsed.host and "@" in parsed.host:
        raise StorageError(f"cannot open storage {redact(original)!r}: the URL holds more than "
                           f"one '@'; write an '@' inside the password as %40; {URL_HINT}")
