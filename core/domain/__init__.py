"""Plain-Python domain: dataset definitions, parsers and rules. No I/O, no drivers."""
