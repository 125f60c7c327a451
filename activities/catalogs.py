"""The built-in matter catalogs (音像记录事项清单, REC-1, REC-2): which enforcement matters are
recorded, how strictly, from when to when, what the recording must show and by which means.

This module is data, not code: the Chinese strings are quoted law, taken from the verbatim seed
texts in ``activities/sources/`` (activities.catalog loads them into versioned MatterType rows).

- ``SAMR`` — 《市场监管部门执法音像记录工作规定（试行）》 (国市监稽〔2020〕118号, seed 000),
  第三条: one entry per situation the article lists. Its first two paragraphs (查封、扣押等强制措施;
  the three cases of 《程序规定》) are ``full_process`` — 第三条第一款 says 全过程, and 第九条 makes
  every recording 第三条 requires uninterrupted from the start of the on-site activity to its end;
  the ten items of its third paragraph and the 询问调查 of its fourth paragraph are ``optional``.
  Start and end come from 第九条, content points from 第十条 (they apply to every recording).
- ``SHUANGQIAO`` — 《承德市双桥区市场监督管理局行政执法音像记录事项清单（2023年）》, the table at
  the end of seed 003: one entry per row (序号 1–10), start/end/methods from its columns. Every
  row gets the points the same set of documents asks of every recording (全过程记录办法第十九条,
  设备使用管理监督规定第六条 告知 and 第七条 亮证) and then its own 记录内容.
- ``DALIAN`` — 附件《综合监管执法局行政执法音像记录清单》 of 大连片区《行政执法音像记录设备使用
  管理办法（试行）》 (seed 004): one entry per row (序号 1–17); 备注 "应当进行" rows are
  ``full_process`` (第三条、第四条: all its recording is 执法全过程同步录音录像), the "根据实际情况
  进行"/"根据执法需要进行" rows ``optional``. Every row gets its own 记录内容 and then the points the
  办法 asks of every recording (第十四条 告知, 第十五条 场景、参与人员、现场痕迹物证).

``quote`` is a contiguous excerpt of the seed text with its layout whitespace (table line
wrapping, PDF spaces) left out; punctuation (half- or full-width) is as the seed has it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContentPoint:
    code: str  # stable ASCII slug
    name: str  # Chinese, short


@dataclass(frozen=True)
class MatterEntry:
    code: str  # stable ASCII slug, unique in its catalog
    name: str  # the matter as the source names it
    category: str  # a code of CATEGORIES
    level: str  # "full_process", "mandatory" or "optional" (activities.choices.MatterLevel)
    start_trigger: str  # when recording starts
    end_trigger: str  # when it ends
    content_points: tuple[str, ...]  # codes of CONTENT_POINTS
    methods: tuple[str, ...]  # of "video", "audio", "photo"
    article: str  # where in the source
    quote: str  # an exact excerpt of the source naming the matter


@dataclass(frozen=True)
class Catalog:
    code: str
    name: str
    source: str
    entries: tuple[MatterEntry, ...]


CATEGORIES: tuple[tuple[str, str], ...] = (
    ("coercive", "行政强制措施"),
    ("preservation", "先行登记保存"),
    ("sampling", "抽样取证"),
    ("inspection", "现场检查"),
    ("investigation", "调查取证与询问"),
    ("service", "文书送达"),
    ("hearing", "听证"),
    ("penalty", "当场处罚（简易程序）"),
    ("licensing", "行政许可"),
    ("rectification", "责令改正"),
    ("complaint", "投诉举报与信访"),
    ("incident", "突发事件与群体性事件"),
    ("other", "其他"),
)

CONTENT_POINTS: tuple[ContentPoint, ...] = (
    # generic: SAMR 第十条, SQ 全过程记录办法第十九条 / 设备规定第六、七条, DL 第十四、十五条 (REC-6, REC-8)
    ContentPoint("show_id", "亮证表明身份"),
    ContentPoint("announce_recording", "告知录音录像"),
    ContentPoint("scene", "现场环境"),
    ContentPoint("entity_qualification", "当事人主体资格"),
    ContentPoint("persons_present", "在场人员"),
    ContentPoint("involved_property", "涉案财物"),
    ContentPoint("other_evidence", "其他证据、现场痕迹物证"),
    ContentPoint("document_service", "文书签署、送达"),
    ContentPoint("enforcement_measures", "执法措施"),
    ContentPoint("inspection_process", "检查、询问、取证过程"),
    # what the rows of the local lists ask besides (DL 附件, SQ 事项清单)
    ContentPoint("notify_avoidance", "告知申请回避权利"),
    ContentPoint("notify_measure_grounds", "告知强制措施理由、依据和权利救济"),
    ContentPoint("notify_matters", "告知执法（检查）事项"),
    ContentPoint("hear_statement", "听取陈述和申辩"),
    ContentPoint("party_signature", "当事人签名确认"),
    ContentPoint("refusal_to_sign", "当事人不配合签名及见证人确认"),
    ContentPoint("refusal_to_confirm", "当事人无法确认或拒绝确认的情形"),
    ContentPoint("sampling_facilities", "抽样设施（电话、上网设备）"),
    ContentPoint("purchase_process", "购买样品的交易过程"),
    ContentPoint("online_seller_info", "网络抽样的经营者、网页、订单和支付信息"),
    ContentPoint("sample_unpacking", "样品拆封过程"),
    ContentPoint("package_inspection", "包装和储运条件查验"),
    ContentPoint("sample_sealing", "封样过程"),
    ContentPoint("sample_info", "抽样对象贮存环境和样品信息"),
    ContentPoint("service_place", "送达（张贴）地点"),
    ContentPoint("document_content", "送达文书内容"),
    ContentPoint("obstruction", "阻碍执法及现场处置过程"),
    ContentPoint("dispute", "纠纷起因和处理过程"),
    ContentPoint("rectification_status", "改正情况"),
    ContentPoint("whole_process", "活动全过程"),
)


def _pts(*codes: str) -> tuple[str, ...]:
    """Content point codes in order, each once."""
    return tuple(dict.fromkeys(codes))


_AV = ("video", "audio")
_AVP = ("video", "audio", "photo")
_VP = ("video", "photo")

# ==================================================================================== SAMR
# seed 000, 第三条 (the paragraphs after "第三条 对实施查封或者扣押…" up to 第四条); start and end:
# 第九条第一款 ("自现场开展执法活动时开始，至现场执法活动结束后停止"); content points: 第十条.

_SAMR_DOC = "《市场监管部门执法音像记录工作规定（试行）》"
_SAMR_START = "自现场开展执法活动时开始"
_SAMR_END = "至现场执法活动结束后停止"
_SAMR_POINTS = _pts(
    "scene",  # （一）现场环境
    "entity_qualification", "persons_present",  # （二）主体资格的证据及现场人员的活动
    "involved_property", "other_evidence",  # （三）重要涉案财物主要特征以及其他…证据
    "document_service", "enforcement_measures",  # （四）签署、送达法律文书和采取执法措施情况
)

SAMR = Catalog(
    code="samr",
    name="全国（市场监管总局规定第三条）",
    source="市场监管部门执法音像记录工作规定（试行）",
    entries=(
        MatterEntry(
            code="seizure",
            name="实施查封或者扣押等强制措施的现场执法活动和场所",
            category="coercive",
            level="full_process",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第一款",
            quote="对实施查封或者扣押等强制措施的现场执法活动和场所，要推行全过程执法音像记录。",
        ),
        MatterEntry(
            code="sampling_art28",
            name="《程序规定》第二十八条第二款规定的抽样取证情形",
            category="sampling",
            level="full_process",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第二款第（一）项（《程序规定》第二十八条第二款）",
            quote="（一）《程序规定》第二十八条第二款规定的抽样取证情形；",
        ),
        MatterEntry(
            code="unconfirmed_art40",
            name="《程序规定》第四十条规定的当事人无法确认或拒绝确认情形",
            category="investigation",
            level="full_process",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第二款第（二）项（《程序规定》第四十条）",
            quote="（二）《程序规定》第四十条规定的当事人无法确认或拒绝确认情形；",
        ),
        MatterEntry(
            code="service_art74",
            name="《程序规定》第七十四条规定的留置送达和公告送达情形",
            category="service",
            level="full_process",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第二款第（三）项（《程序规定》第七十四条）",
            quote="(三)《程序规定》第七十四条规定的留置送达和公告送达情形。",
        ),
        MatterEntry(
            code="on_the_spot_penalty",
            name="当场处罚",
            category="penalty",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（一）项",
            quote="可以根据实际情况进行执法音像记录:(一)当场处罚;",
        ),
        MatterEntry(
            code="inspection_art41",
            name="《程序规定》第四十一条规定的现场检查、抽样取证、采取先行登记保存措施",
            category="inspection",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（二）项（《程序规定》第四十一条）",
            quote="(二)《程序规定》第四十一条规定的现场检查、抽样取证、采取先行登记保存措施;",
        ),
        MatterEntry(
            code="non_cooperation",
            name="当事人无法履行义务、不配合、拒绝、阻碍执法的情形",
            category="other",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（三）项",
            quote="(三)当事人无法履行义务、不配合、拒绝、阻碍执法的情形",
        ),
        MatterEntry(
            code="hearing",
            name="《听证办法》第二十三条规定的听证主持人允许进行的音像采集",
            category="hearing",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（四）项（《听证办法》第二十三条）",
            quote="(四)《听证办法》第二十三条规定的听证主持人允许进行的音像采集;",
        ),
        MatterEntry(
            code="complaint",
            name="有关投诉举报的现场受理和处置",
            category="complaint",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（五）项",
            quote="(五)有关投诉举报的现场受理和处置;",
        ),
        MatterEntry(
            code="emergency",
            name="现场处置重大突发事件、群体性事件",
            category="incident",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（六）项",
            quote="(六)现场处置重大突发事件、群体性事件;",
        ),
        MatterEntry(
            code="licensing",
            name="行政许可的现场受理和办理",
            category="licensing",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（七）项",
            quote="(七)行政许可的现场受理和办理;",
        ),
        MatterEntry(
            code="petition",
            name="涉及执法的信访现场办理",
            category="complaint",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（八）项",
            quote="(八)涉及执法的信访现场办理;",
        ),
        MatterEntry(
            code="joint_enforcement",
            name="参与其他部门开展的联合现场执法",
            category="other",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（九）项",
            quote="(九)参与其他部门开展的联合现场执法;",
        ),
        MatterEntry(
            code="other",
            name="市场监管部门认为需要执法音像记录的其他情形",
            category="other",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第三款第（十）项",
            quote="(十)市场监管部门认为需要执法音像记录的其他情形。",
        ),
        MatterEntry(
            code="interview_room",
            name="在专门的场所对询问调查进行音像记录",
            category="investigation",
            level="optional",
            start_trigger=_SAMR_START,
            end_trigger=_SAMR_END,
            content_points=_SAMR_POINTS,
            methods=_AV,
            article=_SAMR_DOC + "第三条第四款",
            quote="有条件的可以在专门的场所对询问调查进行音像记录。",
        ),
    ),
)

# ==================================================================================== 双桥
# seed 003, the table after "承德市双桥区市场监督管理局行政执法音像记录事项清单（2023年）" at the end
# of the file (columns 序号/执法类别/执法事项/记录环节/记录方式/记录开始时间/记录内容/记录结束时间/
# 存储期限). 记录方式: 拍照 → photo, 录音 → audio, 录像 → video (记录 and 复制 are not AV methods).
# Points every row gets: 设备使用管理监督规定第七条 (亮证) and 第六条 (告知), 全过程记录办法第十九条.

_SQ_ARTICLE = "双桥区执法音像记录事项清单第{}项"
_SQ_GENERAL = (
    "show_id",  # 设备规定第七条
    "announce_recording",  # 设备规定第六条
    "scene", "inspection_process",  # 第十九条（一）现场执法环境以及行政执法人员检查、取证情况
    "persons_present",  # （二）当事人、证人、第三人等现场有关人员的体貌特征和言行举止
    "involved_property", "other_evidence",  # （三）重要物品及其主要特征，以及其他证据
    "enforcement_measures",  # （四）对有关人员、财物采取行政强制措施的情况
    "document_service",  # （五）现场制作、送达行政执法文书的情况
)

SHUANGQIAO = Catalog(
    code="shuangqiao",
    name="双桥区事项清单",
    source="承德市双桥区市场监督管理局行政执法音像记录事项清单（2023年）",
    entries=(
        MatterEntry(
            code="inspection",
            name="现场检查",
            category="inspection",
            level="full_process",
            start_trigger="进入现场检查场所",
            end_trigger="离开现场检查场所",
            content_points=_pts(*_SQ_GENERAL, "whole_process"),
            methods=_AVP,
            article=_SQ_ARTICLE.format(1),
            quote="记录现场检查全过程",
        ),
        MatterEntry(
            code="sampling",
            name="抽样记录",
            category="sampling",
            level="full_process",
            start_trigger="进入抽检场所",
            end_trigger="离开抽样场所",
            content_points=_pts(*_SQ_GENERAL, "whole_process"),
            methods=_AVP,
            article=_SQ_ARTICLE.format(2),
            quote="记录抽样全过程",
        ),
        MatterEntry(
            code="hearing",
            name="举行听证",
            category="hearing",
            level="full_process",
            start_trigger="进入听证场所",
            end_trigger="离开听证场所",
            content_points=_pts(*_SQ_GENERAL, "whole_process"),
            methods=_AVP,
            article=_SQ_ARTICLE.format(3),
            quote="记录听证全过程",
        ),
        MatterEntry(
            code="preservation",
            name="先行登记保存",
            category="preservation",
            level="full_process",
            start_trigger="进入证据保全解除场所",
            end_trigger="离开保全场所",
            content_points=_pts(*_SQ_GENERAL, "enforcement_measures", "whole_process"),
            methods=_VP,  # 记录、复制、拍照、录像
            article=_SQ_ARTICLE.format(4),
            quote="记录先行登记保存、解除全过程",
        ),
        MatterEntry(
            code="seizure",
            name="查封、扣押、解除查封、扣押",
            category="coercive",
            level="full_process",
            start_trigger="进入查封扣押解除场所",
            end_trigger="离开查封扣押解除场所",
            content_points=_pts(*_SQ_GENERAL, "enforcement_measures", "whole_process",
                                "involved_property"),
            methods=_AVP,
            article=_SQ_ARTICLE.format(5),
            quote="记录查封、扣押、解除全过程；记录查封扣押解除的物品详细情况",
        ),
        MatterEntry(
            code="licensing_check",
            name="实地现场核查",
            category="licensing",
            level="full_process",
            start_trigger="进入核查场所",
            end_trigger="离开核查场所",
            content_points=_pts(*_SQ_GENERAL, "scene", "persons_present", "notify_matters",
                                "other_evidence"),
            methods=_AVP,
            article=_SQ_ARTICLE.format(6),
            quote="实地现场核查",
        ),
        MatterEntry(
            code="dispute",
            name="相对人提出争议",
            category="penalty",  # 记录环节: 简易程序环节
            level="full_process",
            start_trigger="纠纷被发现时",
            end_trigger="纠纷解决完毕",
            content_points=_pts(*_SQ_GENERAL, "whole_process", "dispute", "persons_present"),
            methods=_AVP,
            article=_SQ_ARTICLE.format(7),
            quote="相对人提出争议",
        ),
        MatterEntry(
            code="service_left_public",
            name="留置送达、公告送达",
            category="service",
            level="full_process",
            start_trigger="到达文书送达场所",
            end_trigger="文书送达环节结束",
            content_points=_pts(*_SQ_GENERAL, "document_service", "whole_process"),
            methods=_VP,  # 拍照、录像
            article=_SQ_ARTICLE.format(8),
            quote="记录留置送达或公告送达文书的全过程",
        ),
        MatterEntry(
            code="rectification",
            name="限期整改环节",
            category="rectification",
            level="full_process",
            start_trigger="进入限期整改场所",
            end_trigger="离开限期整改场所",
            content_points=_pts(*_SQ_GENERAL, "whole_process"),
            methods=_AVP,
            article=_SQ_ARTICLE.format(9),
            quote="限期整改环节",
        ),
        MatterEntry(
            code="other",
            name="执法人员认为有必要记录的事项",
            category="other",
            level="optional",
            start_trigger="适时",
            end_trigger="适时",
            content_points=_pts(*_SQ_GENERAL, "whole_process"),
            methods=_AVP,
            article=_SQ_ARTICLE.format(10),
            quote="执法人员认为有必要记录的事项",
        ),
    ),
)

# ==================================================================================== 大连
# seed 004, after "附件": the table 《综合监管执法局行政执法音像记录清单》 (columns 序号/记录环节或者
# 情形/记录场所/开始记录时间/记录内容/结束记录时间/备注), rows 1–17 over four page-width blocks.
# No 记录方式 column: 第三条、第四条 say 同步录音录像 (video + audio); row 11 also allows 摄影.
# Points every row gets after its own: 第十四条 (告知), 第十五条 (场景、参与人员、现场痕迹物证).

_DL_ARTICLE = "大连片区设备使用管理办法附件第{}项"
_DL_GENERAL = ("announce_recording", "scene", "persons_present", "other_evidence")

DALIAN = Catalog(
    code="dalian",
    name="大连片区事项清单",
    source="中国（辽宁）自由贸易试验区大连片区（大连保税区）综合监管执法局"
           "行政执法音像记录设备使用管理办法（试行）",
    entries=(
        MatterEntry(
            code="seizure",
            name="依法实施查封或者扣押等强制措施的现场执法活动和场所",
            category="coercive",
            level="full_process",
            start_trigger="查封、扣押开始",
            end_trigger="查封、扣押结束",
            content_points=_pts(
                "show_id", "scene", "entity_qualification", "persons_present",
                "notify_measure_grounds", "hear_statement", "enforcement_measures",
                "involved_property", "document_service", "party_signature", "refusal_to_sign",
                *_DL_GENERAL,
            ),
            methods=_AV,
            article=_DL_ARTICLE.format(1),
            quote="依法实施查封或者扣押等强制措施的现场执法活动和场所",
        ),
        MatterEntry(
            code="sampling_remote",
            name="通过网络、电话购买等方式抽样取证的",
            category="sampling",
            level="full_process",
            start_trigger="抽样取证开始",
            end_trigger="抽样取证结束",
            content_points=_pts(
                "scene", "entity_qualification", "sampling_facilities", "purchase_process",
                "online_seller_info", "sample_unpacking", "package_inspection", "sample_sealing",
                *_DL_GENERAL,
            ),
            methods=_AV,
            article=_DL_ARTICLE.format(2),
            quote="通过网络、电话购买等方式抽样取证的",
        ),
        MatterEntry(
            code="unconfirmed",
            name="调查取证时当事人无法确认或者拒绝确认的",
            category="investigation",
            level="full_process",
            start_trigger="调查取证开始",
            end_trigger="调查取证结束",
            content_points=_pts(
                "show_id", "notify_avoidance", "scene", "entity_qualification", "persons_present",
                "involved_property", "refusal_to_confirm",
                *_DL_GENERAL,
            ),
            methods=_AV,
            article=_DL_ARTICLE.format(3),
            quote="调查取证时当事人无法确认或者拒绝确认的",
        ),
        MatterEntry(
            code="service_left",
            name="采取留置方式送达执法文书的",
            category="service",
            level="full_process",
            start_trigger="文书送达开始",
            end_trigger="文书送达结束",
            content_points=_pts("service_place", "document_content", *_DL_GENERAL),
            methods=_AV,
            article=_DL_ARTICLE.format(4),
            quote="采取留置方式送达执法文书的",
        ),
        MatterEntry(
            code="service_public",
            name="采取张贴公告方式送达执法文书的",
            category="service",
            level="full_process",
            start_trigger="张贴开始",
            end_trigger="张贴结束",
            content_points=_pts("service_place", "document_content", *_DL_GENERAL),
            methods=_AV,
            article=_DL_ARTICLE.format(5),
            quote="采取张贴公告方式送达执法文书的",
        ),
        MatterEntry(
            code="on_the_spot_penalty",
            name="当场处罚",
            category="penalty",
            level="optional",
            start_trigger="拟作出当场处罚决定开始",
            end_trigger="当场处罚决定书交付当事人",
            content_points=_pts(
                "show_id", "notify_avoidance", "scene", "entity_qualification", "persons_present",
                "hear_statement", "document_service",
                *_DL_GENERAL,
            ),
            methods=_AV,
            article=_DL_ARTICLE.format(6),
            quote="当场处罚决定书的交付情况",
        ),
        MatterEntry(
            code="inspection",
            name="现场检查(勘验)",
            category="inspection",
            level="optional",
            start_trigger="检查(勘验)开始",
            end_trigger="检查(勘验)结束",
            content_points=_pts(
                "show_id", "notify_avoidance", "scene", "entity_qualification", "persons_present",
                "notify_matters", "inspection_process", "refusal_to_sign",
                *_DL_GENERAL,
            ),
            methods=_AV,
            article=_DL_ARTICLE.format(7),
            quote="询问和其他现场检查(勘验)的过程",
        ),
        MatterEntry(
            code="sampling",
            name="抽样取证",
            category="sampling",
            level="optional",
            start_trigger="抽样取证开始",
            end_trigger="抽样取证结束",
            content_points=_pts(
                "scene", "persons_present", "entity_qualification", "sample_info",
                "purchase_process",
                *_DL_GENERAL,
            ),
            methods=_AV,
            article=_DL_ARTICLE.format(8),
            quote="抽样对象的贮存环境、样品信息",
        ),
        MatterEntry(
            code="preservation",
            name="先行登记保存",
            category="preservation",
            level="optional",
            start_trigger="登记保存开始",
            end_trigger="登记保存结束",
            content_points=_pts(
                "show_id", "scene", "entity_qualification", "persons_present",
                "notify_measure_grounds", "hear_statement", "enforcement_measures",
                "involved_property", "document_service", "party_signature", "refusal_to_sign",
                *_DL_GENERAL,
            ),
            methods=_AV,
            article=_DL_ARTICLE.format(9),
            quote="实施(解除)先行登记保存措施的全过程",
        ),
        MatterEntry(
            code="non_cooperation",
            name="当事人无法履行义务、不配合、拒绝、阻碍执法的其他情形",
            category="other",
            level="optional",
            start_trigger="该情形出现",
            end_trigger="该情形结束",
            content_points=_pts(
                "show_id", "scene", "entity_qualification", "persons_present", "obstruction",
                *_DL_GENERAL,
            ),
            methods=_AV,
            article=_DL_ARTICLE.format(10),
            quote="当事人无法履行义务、不配合、拒绝、阻碍执法的其他情形(《程序规定》当事人无法确认"
                  "或拒绝确认情形、留置送达和公告送达情形除外)",
        ),
        MatterEntry(
            code="hearing",
            name="举行听证",
            category="hearing",
            level="optional",
            start_trigger="听证主持人允许录音、录像和摄影后",
            end_trigger="听证结束",
            content_points=_pts("persons_present", "whole_process", *_DL_GENERAL),
            methods=_AVP,  # 允许录音、录像和摄影
            article=_DL_ARTICLE.format(11),
            quote="听证主持人允许进行音像采集后的听证全过程",
        ),
        MatterEntry(
            code="complaint",
            name="有关投诉举报的现场受理和处置",
            category="complaint",
            level="optional",
            start_trigger="执法活动开始",
            end_trigger="执法活动结束",
            content_points=_pts("persons_present", "whole_process", *_DL_GENERAL),
            methods=_AV,
            article=_DL_ARTICLE.format(12),
            quote="有关投诉举报的现场受理和处置",
        ),
        MatterEntry(
            code="emergency",
            name="现场处置重大突发事件、群体性事件的",
            category="incident",
            level="optional",
            start_trigger="执法活动开始",
            end_trigger="执法活动结束",
            content_points=_pts("persons_present", "whole_process", *_DL_GENERAL),
            methods=_AV,
            article=_DL_ARTICLE.format(13),
            quote="现场处置重大突发事件、群体性事件的",
        ),
        MatterEntry(
            code="petition",
            name="涉及执法的信访现场办理",
            category="complaint",
            level="optional",
            start_trigger="执法活动开始",
            end_trigger="执法活动结束",
            content_points=_pts("persons_present", "whole_process", *_DL_GENERAL),
            methods=_AV,
            article=_DL_ARTICLE.format(14),
            quote="涉及执法的信访现场办理",
        ),
        MatterEntry(
            code="joint_enforcement",
            name="参与其他部门开展的联合现场执法",
            category="other",
            level="optional",
            start_trigger="执法活动开始",
            end_trigger="执法活动结束",
            content_points=_pts("persons_present", "whole_process", *_DL_GENERAL),
            methods=_AV,
            article=_DL_ARTICLE.format(15),
            quote="参与其他部门开展的联合现场执法",
        ),
        MatterEntry(
            code="rectification",
            name="依法应责令改正的",
            category="rectification",
            level="optional",  # 备注: 根据执法需要进行
            start_trigger="核查开始",
            end_trigger="核查结束",
            content_points=_pts("show_id", "scene", "rectification_status", *_DL_GENERAL),
            methods=_AV,
            article=_DL_ARTICLE.format(16),
            quote="依法应责令改正的",
        ),
        MatterEntry(
            code="other",
            name="其他认为需要进行音像记录的",
            category="other",
            level="optional",
            start_trigger="执法活动开始",
            end_trigger="执法活动结束",
            content_points=_pts("whole_process", *_DL_GENERAL),
            methods=_AV,
            article=_DL_ARTICLE.format(17),
            quote="其他认为需要进行音像记录的",
        ),
    ),
)

CATALOGS: tuple[Catalog, ...] = (SAMR, SHUANGQIAO, DALIAN)
BY_CODE: dict[str, Catalog] = {catalog.code: catalog for catalog in CATALOGS}
