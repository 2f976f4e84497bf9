"""The benchmark province as plain values: jurisdictions, departments and catalog items.

Nothing here touches a database; `generate.py` writes what these functions describe.
Everything follows from the seed, so two runs on two machines describe the same province.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from app.catalog.codes import child_code
from app.catalog.frameworks import Framework
from app.catalog.nodes import Level, NodeState
from app.services.catalogs.authoring import stable_uid

SEED = 2026
ITEMS_AT_FULL_SCALE = 650_000
DEPARTMENTS = 6_500
PROVINCE = ("980000", "云泽省")  # fictional code: 98 is no real province, and 99 is the demo's
COUNTIES_PER_CITY = (6,) * 9 + (5,) * 6  # 15 cities, 84 counties
FRAGMENT_TYPE_CODE = "A06"  # 养老服务: the capital's type that holds exactly FRAGMENT_TYPE_ITEMS
FRAGMENT_TYPE_ITEMS = 500
# a province's catalog is larger than a city's, a city's larger than a county's
CATALOG_WEIGHT = {"province": 3.0, "city": 1.5, "county": 1.0}

_FIRST = "云青临白安枫石清宁丰长嘉永兴望"
_SECOND = "泽川江鹭澜桥门河平源阳禾溪宁山"
_BUREAUS = (
    "民政局", "教育局", "卫生健康委员会", "人力资源和社会保障局", "财政局", "住房和城乡建设局",
    "交通运输局", "农业农村局", "文化和旅游局", "体育局", "生态环境局", "自然资源局", "水利局",
    "应急管理局", "市场监督管理局", "司法局", "公安局", "退役军人事务局", "医疗保障局",
    "城市管理局", "商务局", "科学技术局", "统计局", "审计局", "残疾人联合会", "妇女联合会",
    "共青团委员会", "总工会", "科学技术协会", "档案馆",
)  # fmt: skip
_UNITS = ("", "综合服务中心", "信息中心", "事务中心", "执法大队")
_PLACES = ("社区", "农村", "城市", "街道", "乡镇", "校园", "家庭", "园区", "景区", "流域", "口岸", "站点")
_TARGETS = (
    "老年人", "残疾人", "儿童", "青少年", "妇女", "困难群众", "退役军人", "流动人口",
    "中小企业", "新就业群体", "村（居）民", "学生",
)  # fmt: skip
_ACTIVITIES = (
    "养老", "助残", "保洁", "评估", "培训", "监测", "咨询", "调解", "宣传", "巡查", "康复",
    "照料", "心理疏导", "法律援助", "信息化运维", "档案整理", "绩效评价", "安全检查", "就业指导", "健康管理",
)  # fmt: skip
_SUFFIXES = ("服务", "项目", "辅助服务", "专项服务")
_STANDARDS = ("国家标准", "行业规范", "合同约定", "地方标准", "服务规范")
_OUTCOMES = (
    "年度考核合格率不低于95%", "按季度报送服务台账", "服务对象满意度不低于90%",
    "接受财政部门绩效评价", "按月提交服务报告",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Place:
    """One jurisdiction of the province and the size of what it owns."""

    code: str
    name: str
    level: str
    parent_code: str | None
    departments: int
    items: int

    @property
    def slug(self) -> str:
        """Return the slug of this jurisdiction's catalog."""
        return f"bench-{self.code}"


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Return counts proportional to `weights` that sum to exactly `total` (largest remainder)."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def province(items_total: int, *, seed: int = SEED) -> list[Place]:
    """Return the province, then its cities, each followed by its counties; the capital is index 1."""
    if items_total < FRAGMENT_TYPE_ITEMS:
        raise ValueError(f"the dataset needs at least {FRAGMENT_TYPE_ITEMS} items, got {items_total}")
    rng = random.Random(seed)
    layout = _layout(rng)
    levels = [level for _, _, level, _ in layout]
    departments = apportion(DEPARTMENTS, [CATALOG_WEIGHT[lv] * rng.uniform(0.8, 1.2) for lv in levels])
    # the fragment type's 500 items are set aside first, so every scale keeps that type exact
    items = apportion(
        items_total - FRAGMENT_TYPE_ITEMS, [CATALOG_WEIGHT[lv] * rng.uniform(0.8, 1.2) for lv in levels]
    )
    items[1] += FRAGMENT_TYPE_ITEMS
    return [
        Place(code, name, level, parent, departments[i], items[i])
        for i, (code, name, level, parent) in enumerate(layout)
    ]


def _layout(rng: random.Random) -> list[tuple[str, str, str, str | None]]:
    code, name = PROVINCE
    out: list[tuple[str, str, str, str | None]] = [(code, name, "province", None)]
    used: set[str] = set()
    for c, counties in enumerate(COUNTIES_PER_CITY, start=1):
        city_code = f"{code[:2]}{c:02d}00"
        city_name = f"{_FIRST[c - 1]}{_SECOND[c - 1]}市"
        used.add(city_name[:2])
        out.append((city_code, city_name, "city", code))
        for k in range(counties):
            stem = _unused_stem(rng, used)
            out.append(
                (f"{city_code[:4]}{k + 2:02d}", f"{stem}{'区' if k == 0 else '县'}", "county", city_code)
            )
    return out


def _unused_stem(rng: random.Random, used: set[str]) -> str:
    while True:
        stem = rng.choice(_FIRST) + rng.choice(_SECOND)
        if stem not in used and stem[0] != stem[1]:
            used.add(stem)
            return stem


def departments(place: Place) -> list[tuple[str, str]]:
    """Return the (code, name) of each of the jurisdiction's departments."""
    out: list[tuple[str, str]] = []
    for i in range(place.departments):
        bureau, unit = _BUREAUS[i % len(_BUREAUS)], _UNITS[(i // len(_BUREAUS)) % len(_UNITS)]
        rank = i // (len(_BUREAUS) * len(_UNITS))
        out.append((f"{place.code}{i + 1:03d}", f"{bureau}{unit}" + (f"第{rank + 1}分部" if rank else "")))
    return out


def type_counts(rng: random.Random, framework: Framework, place: Place, *, capital: bool) -> dict[str, int]:
    """Return how many items each type of the place's catalog holds, in framework order."""
    codes = [t.code for c in framework.classes for t in c.types]
    fixed = {FRAGMENT_TYPE_CODE: FRAGMENT_TYPE_ITEMS} if capital else {}
    free = [c for c in codes if c not in fixed]
    shares = apportion(place.items - sum(fixed.values()), [rng.uniform(0.3, 1.7) for _ in free])
    counts = dict(zip(free, shares, strict=True)) | fixed
    return {c: counts[c] for c in codes}


def item_states(
    rng: random.Random,
    place: Place,
    counts: Mapping[str, int],
    department_codes: Sequence[str],
) -> Iterator[NodeState]:
    """Yield the 三级 items of the place's catalog, type by type, each under its framework type."""
    for type_code, count in counts.items():
        parent = stable_uid(place.slug, "type", type_code)  # the uid create_catalog gave the type
        for n in range(1, count + 1):
            code = child_code(type_code, Level.ITEM, n)
            name, description = _wording(rng)
            yield NodeState(
                uid=stable_uid(place.slug, "item", code),
                parent=parent,
                level=Level.ITEM,
                code=code,
                name=name,
                description=description,
                department=rng.choice(department_codes),
                sort_key=n * 10,
            )


def _wording(rng: random.Random) -> tuple[str, str]:
    place, target, activity, suffix = (
        rng.choice(_PLACES),
        rng.choice(_TARGETS),
        rng.choice(_ACTIVITIES),
        rng.choice(_SUFFIXES),
    )
    name = f"{place}{target}{activity}{suffix}"
    description = (
        f"面向{place}{target}提供{activity}及相关{suffix}，"
        f"承接主体按{rng.choice(_STANDARDS)}组织实施，{rng.choice(_OUTCOMES)}。"
    )
    return name, description
