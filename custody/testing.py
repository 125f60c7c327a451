"""Test plumbing for the custody log: a witness transport over Django's test client, and a
registered witness with its own state directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from custody import witness
from custody.keys import ensure_log_keys, public_key_texts
from custody.verifier import note


class ClientTransport:
    """The witness's Transport, speaking to the platform's real API through ``django.test.Client``."""

    def __init__(self, client, headers: dict) -> None:
        self.client, self.headers = client, headers

    def _ok(self, response):
        if response.status_code >= 300:
            raise witness.WitnessUnavailable(f"平台返回 {response.status_code}")
        return response.json()

    def latest_checkpoint(self) -> str:
        return self._ok(self.client.get("/api/v1/custody/checkpoint", **self.headers))["checkpoint"]

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        body = self._ok(self.client.get("/api/v1/custody/proof/consistency",
                                        {"first": first, "second": second}, **self.headers))
        return [note.b64decode(p) for p in body["proof"]]

    def publish(self, size: int, cosignature_line: str) -> None:
        self._ok(self.client.post(f"/api/v1/custody/checkpoints/{size}/cosignatures",
                                  json.dumps({"cosignature": cosignature_line}),
                                  content_type="application/json", **self.headers))


@dataclass
class Witness:
    state_dir: Path
    vkey: str

    def held_checkpoint(self) -> str:
        return json.loads((self.state_dir / "state.json").read_text(encoding="utf-8"))["checkpoint"]

    def held_size(self) -> int:
        return json.loads((self.state_dir / "state.json").read_text(encoding="utf-8"))["size"]

    def poll(self, transport) -> witness.Outcome:
        return witness.poll(self.state_dir, transport)


def registered_witness(tmp_path: Path, settings, name: str = "audit.example.gov.cn/witness") -> Witness:
    """A witness initialised against the platform's log key and listed in LOG_WITNESSES."""
    ensure_log_keys()
    state_dir = tmp_path / "witness"
    vkey = witness.init(state_dir, name, public_key_texts()[0])
    settings.LOG_WITNESSES = [*settings.LOG_WITNESSES, vkey]
    return Witness(state_dir, vkey)
