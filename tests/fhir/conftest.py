"""The FHIR tests' client, which keeps every resource and Bundle it is answered, and the
independent validator (fhir/validator/validate.mjs, Medplum's definitions, offline) run once per
module over them: a resource that fails validation fails the module's last test. Without the
validator's npm packages the tests fail; `.ci/run` installs them (`npm ci`)."""

import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory

VALIDATOR = Path(__file__).resolve().parents[2] / "fhir" / "validator"
FHIR_JSON = "application/fhir+json"
_numbers = itertools.count()


def validator_run(*paths: Path) -> dict:
    """The validator's verdict over these files or folders."""
    node = shutil.which("node")
    assert node, "node (20 or later) is needed for the FHIR validator"
    assert (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir(), (
        f"the validator's packages are missing: run `npm ci` in {VALIDATOR}"
    )
    done = subprocess.run(
        [node, str(VALIDATOR / "validate.mjs"), *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, request):
    """Where this module's answers are written; validated when the module is done. With
    VERTEBRO_FHIR_CORPUS set they are kept there too, to validate the whole run at once."""
    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    yield folder
    if not any(folder.iterdir()):
        return
    if kept := os.environ.get("VERTEBRO_FHIR_CORPUS"):
        shutil.copytree(folder, Path(kept) / folder.name, dirs_exist_ok=True)
    verdict = validator_run(folder)
    print(f"FHIR validator: {verdict['validated']} resources in {verdict['files']} answers, "
          f"{len(verdict['errors'])} errors")
    assert not verdict["errors"], json.dumps(verdict["errors"], indent=1)


class FhirClient(APIClient):
    """A staff member's API client whose FHIR answers go to the corpus."""

    corpus: Path

    def fhir(self, path: str, **query):
        return self._kept(self.get(f"/fhir/R4/{path}", query, HTTP_ACCEPT=FHIR_JSON))

    def fhir_post(self, path: str, body, *, content_type: str = FHIR_JSON, **headers):
        """POST a resource (a Parameters, for an operation) and keep the answer: `body` as JSON,
        or as it is when text."""
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self._kept(self.post(f"/fhir/R4/{path}", data, content_type=content_type,
                                    HTTP_ACCEPT=FHIR_JSON, **headers))

    def _kept(self, response):
        if response.get("Content-Type", "").startswith(FHIR_JSON):
            body = response.json()
            name = f"{next(_numbers):04d}-{body.get('resourceType', 'unknown')}.json"
            (self.corpus / name).write_text(json.dumps(body))
        return response


@pytest.fixture
def fhir_client_for(corpus, db):
    def make(*user_roles, sites):
        user = UserFactory(roles=list(user_roles), sites=sites)
        client = FhirClient()
        client.corpus = corpus
        client.user = user
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return make


def outcome_code(response) -> str:
    """The project's stable code in an OperationOutcome."""
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["details"]["coding"][0]["code"]
