import re
from pathlib import Path

from api.errors import ERROR_CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "api-errors.md"


def test_every_error_code_is_documented_with_its_status():
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", DOC.read_text(), flags=re.MULTILINE)
    assert {code: int(status) for code, status in rows} == {
        code: status for code, (status, _) in ERROR_CODES.items()
    }
