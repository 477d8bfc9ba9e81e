"""The `shunt` command line.

Where things go:

- One module per group of commands, each ending in a tuple of its commands:
  `server.py` (serve, start, stop, restart, reload), `status.py` (status, ps, use, reset: the
  commands that ask or tell the running server), `usage.py` (usage: reads the request log,
  server or not), `accounts.py` (add, login, remove, enable,
  disable), `importing.py` (import), `config_commands.py` (config check), `demo.py` (demo),
  `bench.py` (bench, bench-soak). The demo and the bench commands import their packages only
  when run, so `shunt --help` stays fast.
- The simulator's command (`shunt simulator`, also `python -m shunt.simulator`) is defined in
  `shunt/simulator/cli.py`: the simulator is shared code and runs without the CLI.
- `main.py` only builds the click group and registers all of these.
- Helpers are modules without commands: `common.py` (error handling, loading the config, the
  `--config` option, the note about a broken config), `account_changes.py` (storing a
  credential, asking the server to reload), `oauth.py` (the interactive login), `instance.py`
  (the running server's process and state file), `control_client.py` (the control socket),
  and `views/` (PURE: JSON in, terminal text out).
- A command module imports helpers, never another command module. A helper used by one command
  module lives in it; a name another module imports is public (no leading underscore).
"""

from shunt.cli.main import main as main
