"""The requirement catalog as data (ids and article references; our own wording).

Tests cite ids with ``@pytest.mark.req("ING-2")``; ``manage.py requirements``
prints which requirements have passing tests. Later issues extend the list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str  # Chinese, shown in the product
    articles: str  # where the rule comes from (seed key + article)


CATALOG: tuple[Requirement, ...] = (
    Requirement("ING-1", "接收任何记录设备的视频、音频、照片，任意大小，经网页、接口或采集站上传", "SAMR 第2、8条；DL 第2条"),
    Requirement("ING-2", "原始文件写入时同步计算 SHA-256 与 SM3，一次写入、不可修改", "SAMR 第8、18条；SQ 全过程第24条，工作制度第11、20条"),
    Requirement("ING-3", "记录结束后24小时内上传；确有困难的在条件允许后24小时内上传并说明理由；逾期标记而不拒收", "SAMR 第12条；CC 第16条；SQ 全过程第21条、设备第9条；DL 第18条；RZ 第14条"),
    Requirement("ING-4", "每条记录登记设备、执法人员、起止时间、地点、事项、案号、当事人、承办人、采集机构", "CC 第16条；SQ 全过程第23条"),
    Requirement("ING-5", "采集站在平台确认摘要后才删除设备上的文件，不得私自留存", "SQ 设备第9条、工作制度第15条；DL 第18条"),
    Requirement("ING-6", "异常输入不丢数据：无法解析的文件仍作为原始文件保存并标记；中断的上传可续传或整体拒绝；重复文件只关联不重复存储", "平台要求"),
    Requirement("ING-7", "衍生资料与原始文件分开存放，始终标明为衍生资料并指向原始记录", "SAMR 第2条"),
    Requirement("ACC-1", "查阅、调取须按规定审批，审批按申请、范围和期限生效", "SAMR 第17条；CC 第19条；DL 第22条；SQ 设备第12条"),
    Requirement("ACC-2", "查阅登记：每次查看、播放、下载、复制、导出均登记人员、记录、事由、时间与审批依据", "SQ 设备第12条、工作制度第18条；DL 第22条"),
    Requirement("ACC-3", "涉及商业秘密、个人隐私的记录予以标记，须经更严格的审批路径；音像记录属内部工作信息，不予公开", "SAMR 第4、18条；CC 第14条；SQ 全过程第25条"),
    Requirement("ACC-4", "当事人申请复制的，经部门负责人同意，依法应保密的部分除外", "SQ 全过程第26条"),
    Requirement("ACC-5", "防篡改审计：对记录、审批、设备、设置的每个操作追加到可独立校验的哈希链日志", "平台要求"),
    Requirement("ACC-6", "系统管理员、安全管理员、审计管理员三员分立，不得由同一账号兼任", "等级保护通行要求"),
    Requirement("REC-1", "音像记录事项清单：每类事项的记录要求、开始与结束、内容要点、记录方式；内置全国及双桥、大连清单，部门可补充", "SAMR 第3条；SQ 事项清单；DL 附件"),
    Requirement("REC-2", "查封扣押等强制措施及《程序规定》第二十八条第二款、第四十条、第七十四条情形应全过程记录", "SAMR 第3条；CC 第8条；SQ 全过程第17条"),
    Requirement("REC-3", "记录自现场活动开始不间断至结束；超长或电量、存储不足时可记录关键环节或多机接续；平台重建时间轴并显示间断", "SAMR 第9条；CC 第11条；SQ 工作制度第9条；RZ 第9条"),
    Requirement("REC-4", "中断后恢复记录时语音说明原因；无法恢复的由两名以上执法人员书面说明并报告", "SAMR 第11条；SQ 全过程第20条；RZ 第9条；DL 第16条"),
    Requirement("REC-5", "不进行音像记录仅限列明情形，须报告采集机构负责人并在文字记录中注明", "SAMR 第11条；CC 第13条；SQ 工作制度第5条；DL 第8条"),
    Requirement("REC-6", "记录内容要点：现场环境、主体资格、在场人员、涉案财物、文书签送、执法措施；开始时出示证件", "SAMR 第10条；CC 第12条；SQ 全过程第19条、设备第7条、工作制度第10条；DL 第15条及附件"),
    Requirement("REC-7", "音像记录起止时间与文书记载时间一致，超出容差予以提示", "SQ 设备第7条"),
    Requirement("REC-8", "执法人员告知当事人全程录音录像（规范用语）", "SQ 设备第6条；DL 第14条；RZ 第11条"),
    Requirement("REC-9", "全过程文字记录：案件各阶段文书与音像记录并存；结案后30日内归档", "SQ 全过程第6–15、23条；CC 第6–7条"),
    Requirement("DEV-4", "使用前检查电量、存储与时钟并登记；接入采集站时测量时钟偏差并据以校正记录时间", "RZ 第10条；SQ 工作制度第7条；DL 第12条"),
    Requirement("SUP-2", "自动发现问题：逾期上传、应当记录未记录、中断未说明、时间不一致、逾期未归档等", "平台要求；SAMR 第3、9、11、12条；SQ 设备第7条"),
    Requirement("INT-1", "按案件和事项集中存储，提供有文档的数据接口（REST/OpenAPI）", "SAMR 第14、15条"),
    Requirement("INT-2", "远程同步上传与云存储保障数据安全：兼容 S3 的对象存储，对象锁定使原始文件期满前不能删除", "SAMR 第12条；CC 第14条"),
)

BY_ID = {r.id: r for r in CATALOG}
