from tests.sandbox.conftest import sandbox_app, sandbox_origin  # noqa: F401
