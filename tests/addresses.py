"""A page run in Streamlit's AppTest with an address, and what its address holds after the
run: the helpers of the tests of links that reopen a view (tests/test_links.py,
tests/test_train_address.py)."""

from streamlit.testing.v1 import AppTest


def open_page(page: str, params: dict | None = None) -> AppTest:
    """``pages/<page>.py`` run once with the address parameters ``params``, with no exception."""
    at = AppTest.from_file(f"../pages/{page}.py", default_timeout=120)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def address(at) -> dict:
    """The page's query parameters after its run, one value each."""
    return {name: values[-1] for name, values in at.query_params.items()}


def infos(at) -> list[str]:
    return [i.value for i in at.info]
