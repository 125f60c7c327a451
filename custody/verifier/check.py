"""Check a proof bundle: a pure function from the bundle to a list of results.

Printing and the exit status are the caller's job (``cli.py``). Each result is pass,
fail, not-run, erased or note (informational: a line this verifier has no key for, beside a
verified log signature), names its part and, for entries, the leaf index.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from . import note, tlog
from .entry import EntryError, decode_entry, details_digest, encode_entry

PASS, FAIL, NOT_RUN, ERASED, NOTE = "pass", "fail", "not-run", "erased", "note"
BUNDLE_FORMAT = "avrecords-custody-bundle/v1"


@dataclass(frozen=True)
class Result:
    part: str  # checkpoint / signature / consistency / inclusion / details / bundle
    status: str
    message: str
    leaf_index: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _keys(texts, results: list[Result], source: str) -> list[note.VerifierKey]:
    keys = []
    for text in texts or ():
        try:
            keys.append(note.VerifierKey.parse(text))
        except note.NoteError as exc:
            results.append(Result("signature", FAIL, f"无法解析公钥（{source}）：{exc}"))
    return keys


def _check_signatures(cp: note.Checkpoint, keys, label: str, key_source: str) -> list[Result]:
    """One result per signature line. A line by a key this verifier does not hold is NOT_RUN,
    except the log's own second line (same name as the origin: the SM2 signature) once its
    Ed25519 signature verified, which is a NOTE: the log's signature is already proven. An
    unknown witness stays NOT_RUN, so an unchecked co-signature is never passed off as checked."""
    results, unknown = [], []
    log_ok = False
    for sig in cp.signatures:
        key = next((k for k in keys if k.name == sig.name and k.key_id == sig.key_id), None)
        if key is None:
            unknown.append(sig)
            continue
        ok, kind = note.verify_signature(cp.body, sig, key)
        role = "见证人" if key.alg == note.ALG_COSIGNATURE_V1 else "日志"
        if ok and key.alg == note.ALG_ED25519:
            log_ok = True
        results.append(Result(
            "signature", PASS if ok else FAIL,
            f"{label}：{role}签名 {sig.name}（{kind}，公钥来源：{key_source}）{'有效' if ok else '无效'}",
        ))
    for sig in unknown:
        status = NOTE if log_ok and sig.name == cp.origin else NOT_RUN
        results.append(Result("signature", status, f"{label}：签名 {sig.name}（密钥 {sig.key_id.hex()}）的公钥未知，此行未校验"))
    if not log_ok and not any(r.status == FAIL for r in results):
        results.append(Result("signature", NOT_RUN, f"{label}：没有可用公钥校验的日志签名，签名未校验"))
    return results


def _entry_bytes(item: dict) -> bytes:
    if "entry_b64" in item:
        return note.b64decode(item["entry_b64"])
    return encode_entry(item["entry"])


def _check_entry(item, cp: note.Checkpoint | None) -> list[Result]:
    if not isinstance(item, dict) or not isinstance(item.get("leaf_index"), int):
        return [Result("bundle", FAIL, "条目缺少叶子序号 leaf_index")]
    index = item["leaf_index"]
    try:
        data = _entry_bytes(item)
        fields = decode_entry(data)
    except (EntryError, note.NoteError, KeyError, TypeError) as exc:
        return [Result("inclusion", FAIL, f"条目无法按规范编码：{exc}", index)]
    results = []
    if cp is None:
        results.append(Result("inclusion", NOT_RUN, "没有可用的检查点，包含证明未校验", index))
    else:
        try:
            proof = [note.b64decode(p) for p in item.get("inclusion_proof", [])]
        except (note.NoteError, TypeError) as exc:
            proof, results = None, [Result("inclusion", FAIL, f"包含证明无法解析：{exc}", index)]
        if proof is not None:
            ok = tlog.verify_inclusion(index, cp.size, tlog.leaf_hash(data), proof, cp.root)
            results.append(Result(
                "inclusion", PASS if ok else FAIL,
                f"事件 {fields['event_uid']}（{fields['action']}）"
                + ("包含在检查点的树中" if ok else "与检查点的树不符：条目或证明被改动"),
                index,
            ))
    erased = item.get("details_erased")
    if erased is not None:
        by = erased.get("by_event") if isinstance(erased, dict) else None
        results.append(Result("details", ERASED, f"详情已依法删除（删除事件 {by}），无法核对详情；条目本身仍可校验", index))
    elif "details" in item and "details_salt" in item:
        try:
            digest = details_digest(note.b64decode(item["details_salt"]), item["details"])
        except (EntryError, note.NoteError, TypeError) as exc:
            results.append(Result("details", FAIL, f"详情无法按规范编码：{exc}", index))
        else:
            ok = digest == fields["details_digest"]
            results.append(Result("details", PASS if ok else FAIL, "详情与条目承诺的摘要一致" if ok else "详情与条目承诺的摘要不符：详情被改动", index))
    else:
        results.append(Result("details", NOT_RUN, "证据包未附详情，详情未核对", index))
    return results


def check_bundle(bundle: dict, trusted_keys: list[str] | None = None) -> list[Result]:
    """All results for one bundle. ``trusted_keys`` (verifier key texts) replace the bundle's own."""
    results: list[Result] = []
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        return [Result("bundle", FAIL, f"不是 {BUNDLE_FORMAT} 格式的证据包")]
    if trusted_keys:
        keys, key_source = _keys(trusted_keys, results, "命令行"), "命令行指定"
    else:
        keys, key_source = _keys(bundle.get("keys"), results, "证据包"), "证据包自带，请与公布的公钥核对"
    cp = None
    try:
        cp = note.parse_checkpoint(bundle.get("checkpoint"))
    except note.NoteError as exc:
        results.append(Result("checkpoint", FAIL, f"检查点无法解析：{exc}"))
    if cp is not None:
        results.append(Result("checkpoint", PASS, f"检查点 {cp.origin}，树大小 {cp.size}，根哈希 {note.b64encode(cp.root)}"))
        results += _check_signatures(cp, keys, "当前检查点", key_source)
        results += _check_consistency(bundle.get("consistency") or [], cp, keys, key_source)
    seen = set()
    for item in bundle.get("entries") or []:
        index = item.get("leaf_index") if isinstance(item, dict) else None
        if index in seen:
            results.append(Result("bundle", FAIL, "同一叶子序号出现两次", index))
        seen.add(index)
        results += _check_entry(item, cp)
    return results


def _check_consistency(items, cp, keys, key_source) -> list[Result]:
    results = []
    for n, item in enumerate(items, 1):
        label = f"较早检查点 {n}"
        try:
            old = note.parse_checkpoint(item.get("checkpoint"))
            proof = [note.b64decode(p) for p in item.get("proof", [])]
        except (note.NoteError, AttributeError, TypeError) as exc:
            results.append(Result("consistency", FAIL, f"{label} 无法解析：{exc}"))
            continue
        results += _check_signatures(old, keys, label, key_source)
        if old.origin != cp.origin:
            results.append(Result("consistency", FAIL, f"{label} 属于另一个日志（{old.origin}）"))
            continue
        ok = tlog.verify_consistency(old.size, cp.size, old.root, cp.root, proof)
        results.append(Result(
            "consistency", PASS if ok else FAIL,
            f"{label}（树大小 {old.size}）"
            + ("是当前检查点的前缀：历史只增未改" if ok else "与当前检查点不一致：历史被改写、截断或分叉"),
        ))
    return results


def first_bad_leaf(results: list[Result]) -> int | None:
    bad = [r.leaf_index for r in results if r.status == FAIL and r.leaf_index is not None]
    return min(bad) if bad else None


def overall(results: list[Result]) -> str:
    statuses = {r.status for r in results}
    if FAIL in statuses:
        return FAIL
    if NOT_RUN in statuses:
        return NOT_RUN
    return PASS
