import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_account_state_table_is_current():
    spec = importlib.util.spec_from_file_location("make_state_table", DOCS / "make_state_table.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "account-states.md").read_text() == module.render(), (
        "docs/account-states.md is stale: run python docs/make_state_table.py"
    )
