"""schemathesis over the API's own OpenAPI schema, in-process (ASGI), with every check enabled:
no server error, no undocumented status code, header or content type, no response outside its
schema, no valid request rejected, no invalid one accepted.

The run-scoped routes get the served run's id (a random one only ever meets the 404) and the
served layer, so that generated queries, indices and bodies reach the real handlers; DELETE
keeps a generated id so that it cannot remove the run under the other operations. Every
operation is tried in positive and negative mode and all failures are reported together.

Every check stays on. Only where a schema-valid body can still be refused for what it names on
this server (a registered dataset or weights name, a dataset root, a weights file's tensors, an
uploaded image's bytes: facts no JSON schema can state) does the acceptance check also accept
the documented refusal (SEMANTIC_REFUSALS).
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from backend.main import create_app
from partlens.config import Settings
from tests.backend.served_run import publish_evaluated

TOKEN = "fuzz-token"  # mutations need it, so the ignored-auth check has something to check
EXAMPLES = 6  # per operation and mode: the whole fuzz stays well under a minute on 2 cores
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis's default
SEMANTIC_REFUSALS = {
    ("POST", "/api/v1/runs"): ["422"],
    ("POST", "/api/v1/datasets"): ["422"],
    ("POST", "/api/v1/weights"): ["422"],
    ("POST", "/api/v1/runs/{run_id}/probes"): ["413", "415", "422"],  # too large, not an image
}


def _config() -> SchemathesisConfig:
    operations = [
        {
            "include-method": method,
            "include-path": path,
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, *refusals]}},
        }
        for (method, path), refusals in SEMANTIC_REFUSALS.items()
    ]
    return SchemathesisConfig.from_dict({"operations": operations})


def _fixed_parameters(operation, run_id: str) -> dict[str, str]:
    names = {p.name for p in operation.path_parameters}
    fixed = {}
    if "run_id" in names and operation.method.upper() != "DELETE":
        fixed["run_id"] = run_id
    if "layer" in names:
        fixed["layer"] = "conv_added"
    return fixed


def _fuzz(operation, mode: GenerationMode, run_id: str) -> None:
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters=_fixed_parameters(operation, run_id)
    )

    @given(strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})

    check()


def test_every_operation_conforms_to_its_schema(tmp_path, redis_url):
    settings_ = Settings(data_dir=tmp_path, broker_url=redis_url, api_token=TOKEN)
    app = create_app(settings_)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        run_id = publish_evaluated(client, settings_.runs_dir).base.rsplit("/", 1)[-1]
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=_config())
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        for mode in MODES:
            try:
                _fuzz(operation, mode, run_id)
            except Unsatisfiable:
                continue  # negative mode of an operation without parameters: nothing to send
            except (
                Exception,
                BaseExceptionGroup,
            ) as error:  # every operation's failure, not just the first
                failures.append(f"{operation.method.upper()} {operation.path} [{mode}]: {error}")
    assert not failures, "\n\n".join(failures)
