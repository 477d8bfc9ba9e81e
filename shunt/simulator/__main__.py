"""`python -m shunt.simulator`: the same command as `shunt simulator`."""

from shunt.simulator.cli import simulator_command

if __name__ == "__main__":
    simulator_command(prog_name="python -m shunt.simulator")
