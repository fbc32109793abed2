"""docker-compose.yml and the Dockerfile agree with the settings the app reads.

No Docker engine runs here, so this loads the files and checks what can be checked.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from service.db import tortoise_config
from service.settings import ENV_VARS, Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_app_against_a_healthy_postgres():
    services = compose()["services"]
    assert set(services) == {"app", "app-2", "postgres", "redis", "varnish"}
    for app in ("app", "app-2"):
        assert services[app]["build"] == "."
        assert services[app]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "/readyz" in " ".join(services[app]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_compose_environment_is_what_settings_read():
    services = compose()["services"]
    env = {k: str(v) for k, v in services["app"]["environment"].items()}
    assert set(env) <= set(ENV_VARS), f"unknown variables: {set(env) - set(ENV_VARS)}"
    settings = Settings.from_env(env)
    assert settings.production
    assert env["MASTHEAD_SECRET_KEY"].startswith("${MASTHEAD_SECRET_KEY:?")  # compose refuses to start without one
    # The app listens on the published container port.
    published = [str(p) for p in services["app"]["ports"]]
    assert f"{settings.port}:{settings.port}" in published
    assert settings.host == "0.0.0.0"
    # The database URL names the postgres service with its own credentials.
    url = urlsplit(settings.database_url)
    pg = services["postgres"]["environment"]
    assert url.scheme == "postgres" and url.hostname == "postgres" and url.port == 5432
    assert (url.username, url.password, url.path.lstrip("/")) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
    connection = tortoise_config(settings)["connections"]["default"]
    credentials = connection["credentials"]
    assert (credentials["host"], credentials["port"], credentials["user"], credentials["database"]) == ("postgres", 5432, pg["POSTGRES_USER"], pg["POSTGRES_DB"])
    assert credentials["server_settings"] == {"statement_timeout": "5000"} and credentials["timeout"] == 3


def test_compose_puts_varnish_in_front_of_two_app_replicas_sharing_redis():
    services = compose()["services"]
    app, second, varnish = services["app"], services["app-2"], services["varnish"]
    # Two replicas of one definition; the second starts once the first has migrated.
    same = lambda service: {k: v for k, v in service.items() if k not in ("depends_on", "ports")}  # noqa: E731
    assert same(second) == same(app) and second["depends_on"]["postgres"] == app["depends_on"]["postgres"]
    assert second["depends_on"]["app"]["condition"] == "service_healthy" and "ports" not in second
    settings = Settings.from_env({k: str(v) for k, v in app["environment"].items()})
    # Redis: the service exists, is healthy before the apps start, and is what they use.
    redis = urlsplit(settings.redis_url)
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)
    assert "redis-cli" in services["redis"]["healthcheck"]["test"] and app["depends_on"]["redis"]["condition"] == "service_healthy"
    # Bounded: evicting only keys with a TTL leaves the response cache's race state (service/cache_stores.py).
    command = services["redis"]["command"]
    assert command[command.index("--maxmemory") + 1].endswith("mb")
    assert command[command.index("--maxmemory-policy") + 1] == "volatile-lru"
    # Varnish: published, runs the shipped VCL, in front of both replicas on the port they serve.
    command = varnish["command"]
    assert command[command.index("-f") + 1] == "/etc/varnish/default.vcl" and "./deploy/varnish:/etc/varnish:ro" in varnish["volumes"]
    listen = command[command.index("-a") + 1].rsplit(":", 1)[1]
    assert any(str(port).endswith(f":{listen}") for port in varnish["ports"])
    assert {name: varnish["depends_on"][name]["condition"] for name in ("app", "app-2")} == {"app": "service_healthy", "app-2": "service_healthy"}
    backends = (ROOT / "deploy" / "varnish" / "backends.vcl").read_text()
    for name in ("app", "app-2"):
        assert re.search(r'\.host = "%s";\s*\.port = "%d";' % (name, settings.port), backends)
        assert f'"{name}";' in backends.split("acl masthead_purgers", 1)[1]  # the replicas may purge
    # The apps purge that Varnish, and believe its X-Forwarded-For (its fixed address) alone.
    assert app["environment"]["MASTHEAD_VARNISH_URLS"] == f"http://varnish:{listen}"
    assert settings.trusted_proxies == (varnish["networks"]["masthead"]["ipv4_address"],)


def test_dockerfile_serves_on_the_port_it_exposes_and_migrates_on_start():
    text = (ROOT / "Dockerfile").read_text()
    assert "EXPOSE 8000" in text and "PORT=8000" in text and "HOST=0.0.0.0" in text
    cmd = next(line for line in text.splitlines() if line.startswith("CMD"))
    assert '"masthead", "serve"' in cmd and "--wait" in cmd and "--no-migrate" not in cmd


TEST_TOOLS = ("pytest", "playwright", "hypothesis")


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def test_serving_installs_no_test_tools():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = [_name(r) for r in project["dependencies"]]
    test = [_name(r) for r in project["optional-dependencies"]["test"]]
    assert not [n for n in base if n.startswith(TEST_TOOLS)], f"test tools among the serving dependencies: {base}"
    for tool in TEST_TOOLS:
        assert tool in test, f"the test extra lacks {tool}"
    # The Dockerfile and `make serve` install the package without its extras; `make test` adds them.
    assert "pip install --no-cache-dir . " in (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    serve_stamp = re.search(r"^\$\(SERVE_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    test_stamp = re.search(r"^\$\(TEST_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "pip install --quiet -e .\n" in serve_stamp and "[test]" not in serve_stamp
    assert '-e ".[test]"' in test_stamp
    assert re.search(r"^serve: install$", makefile, re.M) and re.search(r"^test: install-test$", makefile, re.M)


def test_the_readmes_settings_table_states_the_one_default_of_each_setting():
    """Each default lives once, in the Settings dataclass; the README table must say the same
    (its value read by the variable's own parser), so the two cannot drift apart."""
    from service.settings import FROM_ENV

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    parsers = {variable: (name, parse) for variable, name, parse in FROM_ENV}
    defaults, checked = Settings(), []
    for cells in re.findall(r"^\| (`[A-Z_]+`(?: / `[A-Z_]+`)*) \| ((?:`[^`]*`)(?: / `[^`]*`)*) \|", readme, re.M):
        variables = re.findall(r"`([A-Z_]+)`", cells[0])
        values = re.findall(r"`([^`]*)`", cells[1])
        if len(variables) != len(values):
            continue
        first = variables[0]
        for variable, documented in zip(variables, values):
            if variable.startswith("_"):  # `MASTHEAD_MAX_DEPTH` / `_ALIASES`: the first one's prefix
                variable = first[: first.rindex("_")] + variable
            name, parse = parsers[variable]
            assert parse(documented) == getattr(defaults, name), f"README says {variable} defaults to {documented!r}"
            checked.append(variable)
    assert len(checked) >= 25, checked  # the table's literal defaults were all found
