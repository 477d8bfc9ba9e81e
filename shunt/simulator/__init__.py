"""An Anthropic-compatible fake upstream for shunt's tests, `shunt demo` and `shunt bench`.

Pure cores (`ledger`, `headers`, `responses`, `oauth`, `faults`, `prompt_prefix`,
`prompt_cache`, `knobs`, `blocks`, `tool_calls`, `thinking`, `stop_sequences`, `answers`,
`body_summary`) under a thin edge (`app` and its route modules, `transport`, `cli`). Use
`Simulator` with `serve_simulator` in-process, or run `python -m shunt.simulator` as a process.
"""

from shunt.simulator.app import Simulator as Simulator
from shunt.simulator.faults import Fault as Fault
from shunt.simulator.faults import FaultKind as FaultKind
from shunt.simulator.faults import Scope as Scope
from shunt.simulator.ledger import Quota as Quota
from shunt.simulator.transport import serve_simulator as serve_simulator

__all__ = ["Fault", "FaultKind", "Quota", "Scope", "Simulator", "serve_simulator"]
