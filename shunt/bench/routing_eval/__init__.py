"""`shunt bench-routing`: the routing strategies measured on standard scenarios (issue 13).

scenarios.py (accounts and demand) and turns.py (what a turn costs) define the problem;
servers.py serves turns with shunt's real routing (`RoutedPool`) or the ideal scheduler;
loop.py drives a server through a scenario on a simulated clock; metrics.py counts;
evaluate.py runs every strategy and judges them; report.py prints tables or JSON.
full.py (with wire.py, what it sends) replays a scenario against real processes (`--full`).
"""
