"""Screen 650,000 synthetic catalog items (a province platform) and time it; the goal is under 10 s.

Run: .venv/bin/python bench/screening.py [--items N] [--runs R] [--text synthetic|demo]
     .venv/bin/python bench/screening.py --quality   (precision and recall on the labelled sets)
Synthetic items (the default) are deterministic and deliberately harsh: about one in eight carries a
trap word that a rule must clear (实施工作, 施工图审查, 执法人员培训, 政府采购代理 …), one in twenty is a
real hit, and a quarter of the descriptions mention 购买主体 (a word the goods rule must look at).
Names average ~12 characters and descriptions ~40, as in published catalogs. `--text demo` cycles
the demo catalog's 1,774 items instead: realistic prose, the figure to expect in production.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import Counter
from pathlib import Path

from app.screening.engine import ScreenItem, compile_rules, screen
from app.screening.rules import parse_rules_json

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "catalogs" / "screening" / "rules.json"
LABELLED = ROOT / "tests" / "data" / "screening"

PLACES = ["城区", "社区", "乡镇", "街道", "全市", "县域", "园区", "农村", "重点区域", "辖区"]
SUBJECTS = [
    "居家养老",
    "儿童关爱",
    "残疾人康复",
    "心理健康",
    "法律援助",
    "就业创业",
    "文化惠民",
    "全民健身",
    "垃圾分类",
    "食品安全",
    "安全生产",
    "防灾减灾",
    "社区矫正",
    "禁毒宣传",
    "未成年人保护",
]
KINDS = [
    "综合服务",
    "宣传推广服务",
    "专业培训服务",
    "第三方评估服务",
    "运营管理服务",
    "政策咨询服务",
    "专项调查服务",
    "动态监测服务",
]
ACTS = ["开展", "组织", "提供", "承担", "协助开展"]
OBJECTS = [
    "入户走访和个案帮扶",
    "政策宣传和知识普及",
    "专业培训和技能指导",
    "第三方评估并出具报告",
    "数据采集和统计分析",
    "日常巡查和问题台账管理",
    "活动策划和组织实施",
    "满意度调查和结果分析",
]
TAILS = [
    "，按季度向购买主体提交服务报告和台账。",
    "，全年服务对象不少于500人次并开展满意度回访。",
    "，年底形成年度工作总结和绩效自评报告。",
    "，为每名服务对象建立服务档案并动态更新。",
]
TRAPS = [
    ("民生实事项目实施工作评估服务", "对年度民生实事项目实施工作进展和成效开展第三方评估，形成评估报告。"),
    ("建设工程施工图审查服务", "对房屋建筑和市政基础设施工程施工图设计文件进行技术审查。"),
    ("执法人员培训服务", "组织开展行政执法人员法律知识和执法技能培训，全年不少于4期。"),
    ("政府采购代理服务", "受采购人委托代理政府采购项目，组织编制采购文件和开展评审。"),
    ("岗位技能培训服务", "为企业在职职工和就业重点群体开展岗位技能提升培训。"),
    ("社区建设指导服务", "协助开展城乡社区建设规划编制和社区治理能力评估。"),
    ("信息化建设与管理服务", "负责部门信息化建设项目的需求分析、技术咨询与运维管理。"),
    ("老旧小区改造项目绩效评价", "对老旧小区改造项目资金使用和实施效果开展绩效评价。"),
]
HITS = [
    ("老旧小区改造工程", "对老旧小区实施屋面防水、外墙保温和管网改造施工。"),
    ("办公设备采购服务", "采购台式计算机、打印机等办公设备，按需配送到各科室。"),
    ("劳务派遣服务", "为局机关提供劳务派遣人员，按月结算服务费。"),
    ("综合事务辅助服务", "中标人向采购人派驻5名工作人员，服从采购人工作安排。"),
    ("城市管理综合执法巡查服务", "委托第三方开展执法巡查，并对违法行为实施处罚。"),
    ("新能源公交车融资租赁服务", "通过融资租赁方式取得公交车辆使用权。"),
]


def synthetic_items(count: int) -> list[ScreenItem]:
    """Return `count` deterministic items: 1 hit in 20, 1 trap in 8, ordinary services otherwise."""
    items = []
    for i in range(count):
        if i % 20 == 7:
            name, description = HITS[(i // 20) % len(HITS)]
        elif i % 8 == 3:
            name, description = TRAPS[(i // 8) % len(TRAPS)]
        else:
            name = PLACES[i % 10] + SUBJECTS[(i // 10) % 15] + KINDS[(i // 150) % 8]
            description = (
                f"面向{PLACES[(i // 7) % 10]}{ACTS[i % 5]}{SUBJECTS[(i // 3) % 15]}"
                f"{OBJECTS[(i // 11) % 8]}{TAILS[(i // 13) % 4]}"
            )
        items.append(ScreenItem(name=name, description=description))
    return items


def demo_items(count: int) -> list[ScreenItem]:
    """Return `count` items cycling through the demo catalog's items (catalogs/demo/items-2024.csv)."""
    with (ROOT / "catalogs" / "demo" / "items-2024.csv").open(encoding="utf-8", newline="") as f:
        rows = [ScreenItem(r["name"], r["description"]) for r in csv.DictReader(f)]
    return [rows[i % len(rows)] for i in range(count)]


def quality() -> None:
    """Print precision and recall of the shipped rules on each labelled set, and per head."""
    matcher = compile_rules(parse_rules_json(RULES.read_text(encoding="utf-8")))
    for path in sorted(LABELLED.glob("*.csv")):
        rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
        results = screen([ScreenItem(r["name"], r["description"]) for r in rows], matcher)
        counts: Counter[str] = Counter()
        for row, findings in zip(rows, results, strict=True):
            expected = row["expected_head"]
            right = bool(expected) and any(f.head == int(expected) for f in findings)
            counts["tp" if right else "fn" if expected else "fp" if findings else "tn"] += 1
            counts[f"head {expected or '-'} {'ok' if right or not (expected or findings) else 'miss'}"] += 1
        flagged, should = counts["tp"] + counts["fp"], counts["tp"] + counts["fn"]
        legitimate = counts["tn"] + counts["fp"]
        print(
            f"{path.name}: {len(rows)} rows ({should} should flag, {legitimate} legitimate); "
            f"precision {counts['tp'] / max(flagged, 1):.2f}, recall {counts['tp'] / max(should, 1):.2f}"
        )
        print("   " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if k.startswith("head")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=650_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--text", choices=["synthetic", "demo"], default="synthetic")
    parser.add_argument("--quality", action="store_true", help="report precision/recall instead")
    args = parser.parse_args()
    if args.quality:
        quality()
        return

    started = time.perf_counter()
    matcher = compile_rules(parse_rules_json(RULES.read_text(encoding="utf-8")))
    compile_s = time.perf_counter() - started
    items = synthetic_items(args.items) if args.text == "synthetic" else demo_items(args.items)
    name_len = statistics.mean(len(it.name) for it in items)
    desc_len = statistics.mean(len(it.description) for it in items)

    timings, cpu, flagged = [], [], 0
    for _ in range(args.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        results = screen(items, matcher)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        flagged = sum(1 for findings in results if findings)
    median = statistics.median(timings)
    print(f"rules {matcher.version}: parsed and compiled in {compile_s * 1000:.0f} ms")
    print(
        f"{args.text} items {len(items):,} (name ≈{name_len:.0f} chars, description ≈{desc_len:.0f}); "
        f"flagged {flagged:,}"
    )
    print(
        "runs  " + ", ".join(f"{t:.2f} s" for t in timings) + f"  (CPU median {statistics.median(cpu):.2f} s)"
    )
    print(f"median {median:.2f} s = {len(items) / median:,.0f} items/s (goal: 650,000 items < 10 s)")


if __name__ == "__main__":
    main()
