"""What an account name may be: the same rule for config.toml, credentials.json and the CLI."""

from __future__ import annotations

import re
from typing import Final

NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE: Final = "1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit"
