import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test in this folder runs on one thread (the fixture lives in tests/conftest.py)."""
    yield
