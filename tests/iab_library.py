"""The IAB's own GPP library (``@iabgpp/cmpapi`` from npm), run in Node, as the tests' decoder.

Install it once with ``npm ci --prefix tests/js`` (``.ci/run`` does). Without Node or the
package the tests that need it are skipped with that reason, unless ``GPC_REQUIRE_IAB_LIBRARY``
is set (CI sets it), where a missing decoder is an error: nothing is skipped silently there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"


class IabLibrary:
    """Decodes strings with ``GppModel`` (``tests/js/decode.cjs``), many per Node process."""

    def __init__(self, node: str) -> None:
        self._node = node

    def decode(self, items: list[dict[str, str]]) -> list[dict[str, Any]]:
        done = subprocess.run(
            [self._node, str(JS_DIR / "decode.cjs")],
            input=json.dumps(items),
            capture_output=True,
            text=True,
            cwd=JS_DIR,
            timeout=60,
            check=True,
        )
        decoded: list[dict[str, Any]] = json.loads(done.stdout)
        return decoded

    def gpp(self, gpp: str) -> dict[str, Any]:
        """``{"sectionIds": [...], "sections": {...}, "header": ..., "reencoded": ...}``; raises on an error."""
        (result,) = self.decode([{"gpp": gpp}])
        if "error" in result:
            raise AssertionError(f"@iabgpp/cmpapi cannot decode {gpp!r}: {result['error']}")
        return result

    def usnat(self, gpp: str) -> dict[str, Any]:
        """The ``usnat`` section of ``gpp`` as ``getSection("usnat")`` returns it."""
        result = self.gpp(gpp)
        assert result["sectionIds"] == [7], result
        section: dict[str, Any] = result["sections"]["usnat"]
        return section

    def usprivacy(self, usp: str) -> dict[str, Any]:
        (result,) = self.decode([{"usprivacy": usp}])
        if "error" in result:
            raise AssertionError(f"@iabgpp/cmpapi cannot decode {usp!r}: {result['error']}")
        section: dict[str, Any] = result["uspv1"]
        return section


def find_iab_library() -> IabLibrary | str:
    """The decoder, or why there is none."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        return "Node.js is not installed (apt-get install nodejs npm)"
    if not (JS_DIR / "node_modules" / "@iabgpp" / "cmpapi").is_dir():
        return "@iabgpp/cmpapi is not installed: run `npm ci --prefix tests/js`"
    return IabLibrary(node)


@pytest.fixture(scope="session")
def iab_library() -> IabLibrary:
    found = find_iab_library()
    if isinstance(found, str):
        if os.environ.get("GPC_REQUIRE_IAB_LIBRARY"):
            pytest.fail(f"GPC_REQUIRE_IAB_LIBRARY is set but {found}")
        pytest.skip(found)
    return found
