"""Run inside a network namespace that holds only `lo` (`unshare -n`, as root): the simulator,
`shunt serve` and `codex exec` pointed at shunt's OpenAI listener, then write what happened as
JSON. Codex CLI calls home on its own; in here, nothing but loopback exists to reach.

    unshare -n python -m tests.e2e.codex_driver WORKDIR PROMPT [PROMPT …]

WORKDIR (made by the test) holds every file: shunt's home, Codex's home, a private HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import Proxy, Simulator, request_log_rows, write_config

CODEX_TIMEOUT_S = 120


def codex_config(openai_url: str) -> str:
    """The provider block docs/openai.md gives users, pointed at this server. gpt-5.5 is a
    model Codex offers its apply_patch to as a custom (free-form) tool."""
    return (
        'model = "gpt-5.5"\n'
        'model_provider = "shunt"\n'
        "[model_providers.shunt]\n"
        'name = "shunt"\n'
        f'base_url = "{openai_url}"\n'
        'wire_api = "responses"\n'
        "supports_websockets = false\n"
    )


def main(workdir: Path, prompts: list[str]) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    shunt_home, codex_home, user_home = (workdir / n for n in ("shunt", "codex", "user"))
    for path in (shunt_home, codex_home, user_home):
        path.mkdir()
    os.environ.update(SHUNT_HOME=str(shunt_home), HOME=str(user_home))
    codex = shutil.which("codex")
    assert codex is not None, "codex is not on PATH"
    simulator = Simulator(shunt_home, workdir, ["alpha", "beta"])
    try:
        write_config(shunt_home, simulator.url, ["alpha", "beta"])
        proxy = Proxy(shunt_home)
        try:
            assert proxy.openai_url is not None
            (codex_home / "config.toml").write_text(codex_config(proxy.openai_url))
            env = dict(os.environ, CODEX_HOME=str(codex_home))
            runs = []
            for prompt in prompts:
                result = subprocess.run(
                    [codex, "exec", "--skip-git-repo-check", prompt],
                    env=env,
                    cwd=workdir,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=CODEX_TIMEOUT_S,
                )
                runs.append(
                    {
                        "prompt": prompt,
                        "returncode": result.returncode,
                        "stdout": result.stdout,
                        "stderr": result.stderr[-20_000:],
                    }
                )
            report = {
                "runs": runs,
                "rows": request_log_rows(shunt_home),
                "upstream": simulator.state()["requests"],
                "statuses": {name: proxy.account(name)["status"] for name in ("alpha", "beta")},
                "shunt_output": proxy.output()[-20_000:],
            }
        finally:
            proxy.close()
    finally:
        simulator.close()
    (workdir / "report.json").write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
