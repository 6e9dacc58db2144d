"""The suite's own harness: a failure is always reported, never swallowed by a crash of pytest itself."""

import ast
import gc


def test_a_finalizer_that_parses_in_the_middle_of_a_parse_does_not_crash_it():
    # CPython fixed this in 3.11.8 (gh-106905); before it, tests/conftest.py guards ast.parse.
    # What crashed a CI run: an asyncio transport collected mid-parse formats its warning with a traceback,
    # and Python 3.11's traceback module parses source for its ^^^ markers: a parse inside a parse.
    class ParsesWhenCollected:
        def __del__(self):
            ast.parse("x = (((1)))")

    source = ("def f():\n    return " + "(" * 30 + "1" + ")" * 30 + "\n") * 300
    threshold = gc.get_threshold()
    gc.set_threshold(1)
    try:
        for _ in range(20):
            for _ in range(50):
                cycle = ParsesWhenCollected()
                cycle.itself = cycle  # only the collector frees a cycle, so it runs when a parse allocates
                del cycle
            assert isinstance(ast.parse(source), ast.Module)
    finally:
        gc.set_threshold(*threshold)
        gc.collect()
