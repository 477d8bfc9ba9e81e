"""Account logins and imports, one package per kind of account."""
