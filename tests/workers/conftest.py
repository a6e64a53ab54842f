from tests.domain.conftest import account  # noqa: F401 (fixture)
