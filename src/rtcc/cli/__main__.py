"""`python -m rtcc.cli ...`, as the tests and benchmarks start the server."""

from rtcc.cli import app

app()
