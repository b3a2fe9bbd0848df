"""Tiny typed readers of environment variables, so settings.py stays declarative.

A value that cannot be read is an error at start-up, never a quiet default: `DEBUG=flase` must
not mean False, and `CONN_MAX_AGE=6O` must not crash later with a bare ValueError."""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a yes/no value: use one of {sorted(TRUE | FALSE)}"
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={os.environ[name]!r} is not a whole number") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def object_storage_origins(options: dict) -> list[str]:
    """The origins presigned links of the object store point at, for the CSP's img-src: the
    public (or else the API) endpoint, and the bucket's own host under it when the store is
    addressed by virtual host (OSS, COS, AWS); AWS's hosts when no endpoint is named."""
    from urllib.parse import urlsplit

    endpoint = options.get("public_endpoint_url") or options.get("endpoint_url")
    if not endpoint:
        return ["https://*.amazonaws.com"]
    parts = urlsplit(endpoint)
    origins = [f"{parts.scheme}://{parts.netloc}"]
    if options.get("addressing_style") != "path":
        origins.append(f"{parts.scheme}://{options['bucket_name']}.{parts.netloc}")
    return origins


def read_or_create_secret(path) -> str:
    import secrets
    from pathlib import Path

    path = Path(path)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key
