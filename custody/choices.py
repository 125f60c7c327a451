"""Typed custody event codes: one prefix (range) per app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventCode(models.TextChoices):
    # auth.* — sessions and accounts (orgs)
    LOGIN = "auth.login", _("登录")
    LOGOUT = "auth.logout", _("退出登录")
    LOGIN_FAILED = "auth.login_failed", _("登录失败")
    LOGIN_LOCKED_OUT = "auth.locked_out", _("登录锁定")
    PASSWORD_CHANGED = "auth.password_changed", _("修改密码")
    PERSON_CREATED = "orgs.person_created", _("创建人员")
    ROLE_ASSIGNED = "orgs.role_assigned", _("授予角色")
    DEPARTMENT_CREATED = "orgs.department_created", _("创建部门")
    UNIT_CREATED = "orgs.unit_created", _("创建执法机构")
    TOKEN_ISSUED = "orgs.token_issued", _("签发接口令牌")
    # ingest.* — bytes in
    UPLOAD_STARTED = "ingest.upload_started", _("开始上传")
    UPLOAD_COMPLETED = "ingest.upload_completed", _("上传完成")
    UPLOAD_TERMINATED = "ingest.upload_terminated", _("取消上传")
    UPLOAD_REJECTED = "ingest.upload_rejected", _("上传被拒绝")
    DUPLICATE_LINKED = "ingest.duplicate_linked", _("重复文件已关联")
    INGEST_FLAGGED = "ingest.flagged", _("入库标记异常")
    INGEST_FAILED = "ingest.failed", _("入库失败")
    LATE_REASON_GIVEN = "ingest.late_reason", _("说明逾期原因")
    # storage.* — the vault
    STORED = "storage.stored", _("原始文件已入库")
    DERIVATIVE_STORED = "storage.derivative_stored", _("衍生资料已生成")
    FIXITY_PASSED = "storage.fixity_passed", _("完整性校验通过")
    FIXITY_FAILED = "storage.fixity_failed", _("完整性校验失败")
    FIXITY_NOT_RUN = "storage.fixity_not_run", _("完整性校验未能执行")
    MIGRATED = "storage.migrated", _("对象迁移到其他存储后端")
    # recordings.* — the catalogue
    CATALOGUED = "recordings.catalogued", _("编目")
    METADATA_CHANGED = "recordings.metadata_changed", _("修改元数据")
    # access.* — every byte served
    VIEWED = "access.viewed", _("查看")
    PLAYED = "access.played", _("播放")
    DOWNLOADED = "access.downloaded", _("下载")
    ACCESS_DENIED = "access.denied", _("拒绝访问")
    # orgs.* / auth.* (appended)
    TOKEN_REVOKED = "orgs.token_revoked", _("吊销接口令牌")
    PASSWORD_RESET = "auth.password_reset", _("重置密码")
    # custody.* — the log checking itself (promise 4: every check leaves a result)
    CHAIN_VERIFIED = "custody.chain_verified", _("校验保管链")
    LOG_KEY_ROTATED = "custody.log_key_rotated", _("轮换日志签名密钥")
    LOG_MIGRATED = "custody.log_migrated", _("保管链迁入默克尔树")
    CHECKPOINT_SIGNED = "custody.checkpoint_signed", _("签发检查点")
    CHECKPOINT_REFUSED = "custody.checkpoint_refused", _("拒绝签发检查点")
    CHECKPOINT_COSIGNED = "custody.checkpoint_cosigned", _("见证人联署检查点")
    DETAILS_ERASED = "custody.details_erased", _("依法删除事件详情")
    # audit.* — what the audit administrator takes out of the platform
    REGISTER_EXPORTED = "audit.register_exported", _("导出查阅登记")
    BUNDLE_EXPORTED = "audit.bundle_exported", _("导出证明包")
