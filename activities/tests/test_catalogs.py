"""The built-in matter catalogs (activities.catalogs) are well formed and come from the verbatim
seed texts: every quote, name and trigger is found in the part of its seed the catalog is taken
from, and the number of entries is the number of situations or rows that part lists."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from activities import catalogs
from activities.choices import MatterLevel, RecordMethod

pytestmark = [pytest.mark.req("REC-1"), pytest.mark.req("REC-2")]

# the source regulations, verbatim, kept beside the catalogs they are quoted in (activities/sources/)
SEED_FILES = {"samr": "samr.txt", "shuangqiao": "shuangqiao.txt", "dalian": "dalian.txt"}
SOURCES = Path(__file__).resolve().parents[1] / "sources"
SAMR_DOC = "《市场监管部门执法音像记录工作规定（试行）》"
LEVELS = {"full_process", "mandatory", "optional"}
METHODS = {"video", "audio", "photo"}
NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
_WHITESPACE = re.compile(r"\s+")  # str patterns: includes U+3000 and newlines
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _squash(text: str) -> str:
    return _WHITESPACE.sub("", text)


@cache
def _seeds_dir() -> Path:
    if not all((SOURCES / name).is_file() for name in SEED_FILES.values()):
        pytest.fail(f"the source texts of the built-in catalogs are missing from {SOURCES}", pytrace=False)
    return SOURCES


@cache
def _seed(code: str) -> str:
    return (_seeds_dir() / SEED_FILES[code]).read_text(encoding="utf-8")


@cache
def _section(code: str) -> str:
    """The part of the seed a catalog is taken from, as written (whitespace kept)."""
    text = _seed(code)
    if code == "samr":
        start, end = text.index("第三条 对实施查封"), text.index("第四条 ")
        return text[start:end]
    if code == "shuangqiao":
        return text[text.index("承德市双桥区市场监督管理局行政执法音像记录事项清单（2023年）"):]
    return text[text.index("\n附件\n"):]


def _samr_paragraphs() -> tuple[str, str, str, str]:
    """第三条's four paragraphs on what is recorded: 全过程; 《程序规定》; 可以; 询问调查."""
    section = _section("samr")
    second = section.index("对《程序规定》明确规定的情形")
    third = section.index("对以下执法活动")
    fourth = section.index("有条件的可以")
    fifth = section.index("省级市场监管部门")
    return (section[:second], section[second:third], section[third:fourth], section[fourth:fifth])


def _items(paragraph: str) -> list[str]:
    return re.findall(r"[(（]([一二三四五六七八九十]+)[)）]", paragraph)


def _entries():
    return [(catalog, entry) for catalog in catalogs.CATALOGS for entry in catalog.entries]


def test_counts_follow_the_sources():
    first, second, third, fourth = _samr_paragraphs()
    # the text: one 全过程 situation, three 《程序规定》 cases, ten optional items, one 询问调查
    assert "全过程" in first and _items(first) == []
    assert _items(second) == NUMERALS[:3]
    # (三)'s exclusion names 《程序规定》 articles, not items: the enumerators are 一 … 十
    assert _items(third) == NUMERALS
    assert "询问调查" in fourth
    samr = catalogs.SAMR.entries
    assert [e.level for e in samr].count("full_process") == 1 + 3
    assert [e.level for e in samr].count("optional") == 10 + 1
    assert len(samr) == 15

    # 双桥: the table's rows are the lines starting with their 序号
    rows = re.findall(r"^(\d+)\t", _section("shuangqiao"), flags=re.M)
    assert rows == [str(n) for n in range(1, 11)]
    assert len(catalogs.SHUANGQIAO.entries) == 10

    # 大连: each row's 序号 is a cell of its own ("\t1"), the table spans four page blocks
    rows = re.findall(r"^\t(\d+)$", _section("dalian"), flags=re.M)
    assert rows == [str(n) for n in range(1, 18)]
    assert len(catalogs.DALIAN.entries) == 17


def test_catalog_registry():
    assert catalogs.CATALOGS == (catalogs.SAMR, catalogs.SHUANGQIAO, catalogs.DALIAN)
    assert catalogs.BY_CODE == {c.code: c for c in catalogs.CATALOGS}
    assert set(catalogs.BY_CODE) == {"samr", "shuangqiao", "dalian"}
    # the codes are the CatalogSource values the stored entries are filed under
    from activities.choices import CatalogSource

    assert set(catalogs.BY_CODE) <= set(CatalogSource.values)
    for catalog in catalogs.CATALOGS:
        assert catalog.name and catalog.source
        assert _squash(catalog.source) in _squash(_seed(catalog.code)), catalog.code


def test_vocabularies_are_well_formed():
    categories = [code for code, _name in catalogs.CATEGORIES]
    assert len(categories) == len(set(categories))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) and name for c, name in catalogs.CATEGORIES)
    points = [p.code for p in catalogs.CONTENT_POINTS]
    assert len(points) == len(set(points))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", p.code) and p.name for p in catalogs.CONTENT_POINTS)
    # the values the models store and validate against
    assert LEVELS == set(MatterLevel.values)
    assert METHODS == set(RecordMethod.values)


def test_entries_are_well_formed():
    categories = {code for code, _name in catalogs.CATEGORIES}
    points = {p.code for p in catalogs.CONTENT_POINTS}
    for catalog in catalogs.CATALOGS:
        codes = [e.code for e in catalog.entries]
        assert len(codes) == len(set(codes)), f"duplicate codes in {catalog.code}"
    used_categories = set()
    for catalog, e in _entries():
        where = f"{catalog.code}:{e.code}"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", e.code), where
        assert e.name.strip() and len(e.name) <= 200, where
        assert e.category in categories, where
        used_categories.add(e.category)
        assert e.level in LEVELS, where
        assert e.methods and set(e.methods) <= METHODS, where
        assert len(e.methods) == len(set(e.methods)), where
        assert set(e.content_points) <= points, (where, set(e.content_points) - points)
        assert len(e.content_points) == len(set(e.content_points)), where
        assert e.article.strip() and len(e.article) <= 300, where
        assert e.start_trigger.strip() and len(e.start_trigger) <= 500, where
        assert e.end_trigger.strip() and len(e.end_trigger) <= 500, where
    # the vocabulary is no larger than the sources need
    assert used_categories == categories


def test_quotes_are_verbatim_in_their_source():
    for catalog, e in _entries():
        where = f"{catalog.code}:{e.code}"
        quote = _squash(e.quote)
        assert len(_CJK.findall(quote)) >= 6, where
        seed = SEED_FILES[catalog.code]
        assert quote in _squash(_seed(catalog.code)), f"{where}: quote not in {seed}"
        # and in the part the catalog comes from, naming just this entry
        assert _squash(_section(catalog.code)).count(quote) == 1, where


def test_local_names_and_triggers_are_the_table_cells():
    for catalog in (catalogs.SHUANGQIAO, catalogs.DALIAN):
        table = _squash(_section(catalog.code))
        for n, e in enumerate(catalog.entries, start=1):
            where = f"{catalog.code}:{e.code}"
            assert e.article.endswith(f"第{n}项"), where
            for text in (e.name, e.start_trigger, e.end_trigger):
                assert _squash(text) in table, (where, text)


def test_samr_entries_cite_article_3():
    first, second, third, fourth = _samr_paragraphs()
    samr = catalogs.SAMR.entries
    for e in samr:
        assert e.article.startswith(SAMR_DOC + "第三条"), e.code
        assert _squash(e.start_trigger) in _squash(_seed("samr")), e.code  # 第九条
        assert _squash(e.end_trigger) in _squash(_seed("samr")), e.code
        assert set(e.methods) == {"video", "audio"}, e.code  # 音像记录, 视音频记录设备 (第二条)
    assert [e.article.removeprefix(SAMR_DOC) for e in samr] == [
        "第三条第一款",
        "第三条第二款第（一）项（《程序规定》第二十八条第二款）",
        "第三条第二款第（二）项（《程序规定》第四十条）",
        "第三条第二款第（三）项（《程序规定》第七十四条）",
        *(f"第三条第三款第（{n}）项" + {"二": "（《程序规定》第四十一条）",
                                   "四": "（《听证办法》第二十三条）"}.get(n, "") for n in NUMERALS),
        "第三条第四款",
    ]
    # each quote is in the paragraph its citation names
    paragraphs = {"第一款": first, "第二款": second, "第三款": third, "第四款": fourth}
    for e in samr:
        paragraph = next(p for key, p in paragraphs.items() if key in e.article)
        assert _squash(e.quote) in _squash(paragraph), e.code


def test_samr_mandatory_situations_are_full_process():
    by_code = {e.code: e for e in catalogs.SAMR.entries}
    seizure = by_code["seizure"]
    assert seizure.level == "full_process"
    assert seizure.category == "coercive"
    assert "查封" in seizure.name and "扣押" in seizure.name
    cases = {
        "sampling_art28": ("第二十八条第二款", "sampling"),
        "unconfirmed_art40": ("第四十条", "investigation"),
        "service_art74": ("第七十四条", "service"),
    }
    for code, (article, category) in cases.items():
        e = by_code[code]
        assert e.level == "full_process", code
        assert e.category == category, code
        assert f"《程序规定》{article}" in e.quote and f"《程序规定》{article}" in e.article, code
    full = {e.code for e in catalogs.SAMR.entries if e.level == "full_process"}
    assert full == {"seizure", *cases}
    # 第十条's points are asked of every SAMR recording
    for e in catalogs.SAMR.entries:
        assert {"scene", "entity_qualification", "persons_present", "involved_property",
                "document_service", "enforcement_measures"} <= set(e.content_points), e.code


def test_local_levels_follow_the_tables():
    # 大连 备注: 应当进行 for rows 1–5, 根据实际情况（执法需要）进行 for the rest
    table = _squash(_section("dalian"))
    assert table.count("应当进行") == 5
    assert [e.level for e in catalogs.DALIAN.entries] == ["full_process"] * 5 + ["optional"] * 12
    # 双桥: every listed matter is recorded, row 10 at the officer's discretion
    assert [e.level for e in catalogs.SHUANGQIAO.entries] == ["full_process"] * 9 + ["optional"]
    by_code = {e.code: e for e in catalogs.SHUANGQIAO.entries}
    assert by_code["seizure"].category == "coercive"
    assert catalogs.DALIAN.entries[0].category == "coercive"


def test_generic_content_points_exist():
    names = {p.code: p.name for p in catalogs.CONTENT_POINTS}
    assert "亮证" in names["show_id"]
    assert "告知" in names["announce_recording"] and "录音录像" in names["announce_recording"]
    for code in ("scene", "entity_qualification", "persons_present", "involved_property",
                 "document_service", "enforcement_measures"):
        assert code in names, code
    # the local lists ask for them: 亮证 (SQ 设备规定第七条, DL 表明身份), 告知 (SQ 第六条, DL 第十四条)
    for catalog in (catalogs.SHUANGQIAO, catalogs.DALIAN):
        assert all("announce_recording" in e.content_points for e in catalog.entries), catalog.code
    assert all("show_id" in e.content_points for e in catalogs.SHUANGQIAO.entries)
    dalian_show_id = [n for n, e in enumerate(catalogs.DALIAN.entries, start=1)
                      if "show_id" in e.content_points]
    assert dalian_show_id == [1, 3, 6, 7, 9, 10, 16]  # the rows whose 记录内容 has 表明身份
