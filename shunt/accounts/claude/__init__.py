"""Claude OAuth: PKCE and the token endpoint (one parser for login and refresh), the login, and
the Claude Code import."""
