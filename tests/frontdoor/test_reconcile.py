from hypothesis import given
from hypothesis import strategies as st

from shunt.config import AccountConfig, Config
from shunt.frontdoor.reconcile import plan_changes


def config(**enabled: bool) -> Config:
    return Config(accounts=tuple(AccountConfig(name, enabled=on) for name, on in enabled.items()))


def test_added_removed_enabled_disabled():
    old = config(a=True, b=True, c=False, d=True)
    new = config(a=True, c=True, d=False, e=True)
    changes = plan_changes(old, new)
    assert changes.start == ("c", "e")
    assert changes.stop == ("b", "d")
    assert changes.removed == ("b",)
    assert changes.disabled == ("d",)


def test_no_change_is_empty():
    assert plan_changes(config(a=True), config(a=True)).empty


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.booleans()),
    st.dictionaries(st.sampled_from("abcdef"), st.booleans()),
)
def test_applying_changes_reaches_the_new_enabled_set(old, new):
    changes = plan_changes(config(**old), config(**new))
    running = {name for name, on in old.items() if on}
    running = (running - set(changes.stop)) | set(changes.start)
    assert running == {name for name, on in new.items() if on}
    assert not set(changes.start) & set(changes.stop)
