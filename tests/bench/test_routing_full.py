"""`shunt bench-routing --full`: a tiny scenario replayed against a real `shunt serve` and
simulator, and the pure pieces it sends and reads."""

from __future__ import annotations

import json

import trio

from shunt.bench.routing_eval.full import FullRun, config_text, phase_payloads
from shunt.bench.routing_eval.scenarios import AccountSetup, Demand, Plan, Scenario
from shunt.bench.routing_eval.turns import context_tokens
from shunt.bench.routing_eval.wire import TOKEN_SCALE, answer_usage, failovers_of, turn_body
from shunt.units import HOURS

ROOMY = Plan("roomy", 5_000_000_000, 50_000_000_000)
SMALL = Scenario(
    key="s",
    title="three conversations of three turns on roomy accounts",
    accounts=(
        # Alike, so that without the sticky table the strategy would alternate between them.
        AccountSetup("alpha", ROOMY, 1 * HOURS, 0.5, 2 * HOURS, 0.05),
        AccountSetup("beta", ROOMY, 1 * HOURS, 0.5, 2 * HOURS, 0.05),
    ),
    # Conversations start at 0; the next ones could start at 30 s, after the burst's end.
    demand=Demand(think_s=(10, 10), bursts=((0.0, 25.0),), spread_s=0.0, slots=3, turns=3),
    horizon_s=60.0,
)


def text_tokens(body: dict) -> float:
    """The simulator's measure in prompt-cache mode: four characters of text a token."""
    texts = [body["system"][0]["text"]] + [m["content"][0]["text"] for m in body["messages"]]
    return sum(len(text) for text in texts) / 4


def test_a_turn_body_is_the_scaled_context_and_extends_the_previous_turn():
    for turn in (0, 1, 7, 39):
        body = json.loads(turn_body("slot0-conversation0", turn))
        assert text_tokens(body) == context_tokens(turn) / TOKEN_SCALE
    earlier = json.loads(turn_body("s", 4))
    later = json.loads(turn_body("s", 5))
    assert earlier["system"] == later["system"]
    history = [m["content"][0]["text"] for m in earlier["messages"]]
    assert [m["content"][0]["text"] for m in later["messages"][: len(history)]] == history
    assert "cache_control" in later["messages"][-1]["content"][0]
    other = json.loads(turn_body("t", 4))
    assert other["system"] != earlier["system"]  # no two conversations share a prefix


def test_usage_and_route_are_read_forgivingly():
    answer = b'{"usage":{"input_tokens":12,"cache_read_input_tokens":300,"output_tokens":10}}'
    usage = answer_usage(answer)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (12, 300, 10)
    assert answer_usage(b"not json").input_tokens == 0
    assert answer_usage(b'{"usage": {"input_tokens": true}}').input_tokens == 0
    assert failovers_of("pacer; failovers=2") == 2
    assert failovers_of("sticky") == 0


def test_config_and_phases_are_scaled():
    text = config_text("http://127.0.0.1:9", SMALL, "pacer", 120.0)
    assert 'strategy = "pacer"' in text
    assert "sticky_ttl = 30\n" in text  # 1 h in scenario time
    alpha = phase_payloads(SMALL, 120.0)[0]
    assert alpha["five_hour"] == 5_000_000_000 * 0.5 / TOKEN_SCALE
    assert alpha["five_hour_opened_s_ago"] == 30.0


async def test_a_tiny_scenario_replayed_against_real_processes():
    """All three conversations are served whole, each on one account throughout (sticky through the
    real front door), with no refusal and no error; the accounts' windows start where the
    scenario puts them (5 h windows at 50 %)."""
    logged: list[str] = []
    with trio.fail_after(60):
        outcome = await FullRun(SMALL, "pacer", seed=1, time_scale=20.0, log=logged.append).run()
    row = outcome.row
    assert row.turns_served == 9
    assert row.refusals == 0
    assert outcome.errors == 0
    assert row.affinity == 1.0
    assert outcome.expected_hits == 6
    assert sum(row.served_by.values()) == 9
    assert row.utilization["alpha"] >= 0.5
    assert row.utilization["beta"] >= 0.5
    assert any("replaying" in line for line in logged)
