"""`shunt bench`: the simulator direct versus through `shunt serve`, side by side (SPEC §13).

wire (PURE HTTP/1.1 bytes), client (trio keep-alive connections), stats (PURE percentiles),
scenarios and open_streams (the load shapes), processes and runner (the processes and the
run), profiling (py-spy, with a PURE summary), results, targets and report (PURE), cli.
"""
