"""`shunt demo`: simulator + proxy + traffic, rendered live in the terminal."""
