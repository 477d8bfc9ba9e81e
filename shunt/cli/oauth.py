"""The interactive part of `shunt add NAME` and `shunt login NAME`: authorize URL, pasted
code, exchange, profile. Nothing here writes a file: the caller stores what comes back, so a
login that fails at any step leaves the disk as it was."""

from __future__ import annotations

import os
import secrets
import sys
import time
import webbrowser
from collections.abc import Callable, Mapping

import attrs
import click

from shunt.accounts.claude import login as oauth_login
from shunt.accounts.claude.pkce import (
    STATE_BYTES,
    VERIFIER_BYTES,
    LoginError,
    parse_pasted_code,
    start_login,
)
from shunt.accounts.claude.profile import profile_identity
from shunt.accounts.claude.token import exchange_payload
from shunt.config import Config
from shunt.model.credential import Credential

random_bytes: Callable[[int], bytes] = secrets.token_bytes  # tests make it deterministic


@attrs.frozen
class LoginResult:
    credential: Credential
    email: str = ""
    plan: str = ""


def can_open_browser(platform: str, environ: Mapping[str, str]) -> bool:
    """A GUI browser can show up: macOS and Windows always, elsewhere only with a display.
    (Without one, `webbrowser` may start a text browser that takes over this terminal.)"""
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def obtain_login(config: Config, *, name: str, open_browser: bool) -> LoginResult:
    """Run the authorization-code flow with PKCE for `name`; LoginError when it fails."""
    oauth = config.oauth
    login = start_login(
        verifier_bytes=random_bytes(VERIFIER_BYTES),
        state_bytes=random_bytes(STATE_BYTES),
        authorize_url=oauth.authorize_url,
        client_id=oauth.client_id,
        redirect_uri=oauth.redirect_uri,
        scopes=oauth.scopes,
    )
    click.echo(
        f"To log in the Claude account for {name!r}, open this URL in a browser (on any\n"
        "machine), log in, and copy the code the page shows:\n"
    )
    click.echo(f"  {login.url}\n")
    if open_browser and can_open_browser(sys.platform, os.environ):
        try:
            webbrowser.open(login.url)
        except webbrowser.Error:
            pass  # the URL is printed above
    click.echo("Paste the code here: ", nl=False)
    line = sys.stdin.readline()
    if not line or not sys.stdin.isatty():
        click.echo()  # a terminal echoed the user's Enter; piped input did not
    if not line:
        raise LoginError("no code was pasted (end of input); nothing was changed")
    code = parse_pasted_code(line, expected_state=login.state)
    payload = exchange_payload(code=code, login=login, client_id=oauth.client_id)
    with oauth_login.make_client() as client:
        grant = oauth_login.exchange_code(
            client, token_url=oauth.token_url, payload=payload, now=time.time()
        )
        try:
            profile = oauth_login.fetch_profile(
                client, profile_url=oauth.profile_url, access_token=grant.credential.access_token
            )
        except oauth_login.ProfileUnavailable as exc:
            profile = None
            click.echo(
                f"Logged in, but the profile endpoint {exc}: the plan (and maybe the email) "
                "is unknown; set them in config.toml, or with --plan / --email on `shunt add`.",
                err=True,
            )
    identity = profile_identity(profile)
    return LoginResult(grant.credential, identity.email or grant.email, identity.plan)
