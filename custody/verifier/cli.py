"""Command line: ``python3 -I -m custody.verifier bundle.json`` or ``python3 -I <dir> bundle.json``.

Exit status: 0 every part passed (erased details are reported and allowed), 1 some part
failed, 2 nothing failed but some part could not be checked, 3 the bundle could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys

from .check import FAIL, NOT_RUN, PASS, check_bundle, first_bad_leaf, overall

EXIT = {PASS: 0, FAIL: 1, NOT_RUN: 2}
LABEL = {"pass": "通过", "fail": "失败", "not-run": "未校验", "erased": "已删除", "note": "说明"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="custody-verifier", description="保管链证据包离线校验")
    parser.add_argument("bundle", help="证据包 JSON 文件")
    parser.add_argument("--key", action="append", default=[], help="信任的公钥（verifier key 文本），可重复；指定后不采用证据包自带的公钥")
    parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    args = parser.parse_args(argv)
    try:
        with open(args.bundle, encoding="utf-8") as handle:
            bundle = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"无法读取证据包：{exc}", file=sys.stderr)
        return 3
    results = check_bundle(bundle, args.key)
    verdict, bad = overall(results), first_bad_leaf(results)
    if args.json:
        json.dump({"result": verdict, "first_bad_leaf": bad, "checks": [r.as_dict() for r in results]},
                  sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for r in results:
            leaf = f" 叶子 {r.leaf_index}" if r.leaf_index is not None else ""
            print(f"[{r.status}] {LABEL[r.status]} {r.part}{leaf}：{r.message}")
        print(f"结论 result: {verdict}" + (f"；第一个有问题的叶子 first bad leaf: {bad}" if bad is not None else ""))
    return EXIT[verdict]
