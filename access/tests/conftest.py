from web.tests.conftest import officer, officer_client, outsider, unit  # noqa: F401
