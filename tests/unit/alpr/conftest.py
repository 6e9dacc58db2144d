import pytest


@pytest.fixture(scope="session")
def reader():
    from rtcc.alpr.reader import PlateReader

    return PlateReader(threads=1)
