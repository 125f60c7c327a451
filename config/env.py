"""Typed access to environment variables: the one place settings come from.

Every variable the platform reads is declared here, with its default and a
Chinese/English description, so the README table and the code cannot drift
(`manage.py print_env` prints this list).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Var:
    name: str
    default: str
    help: str


VARIABLES: list[Var] = [
    Var("AVR_VAR_DIR", str(BASE_DIR / "var"), "运行数据目录 / runtime data folder (SQLite, vault, queue)"),
    Var("AVR_VAULT_DIR", "", "文件库目录，默认 $AVR_VAR_DIR/vault / filesystem vault root"),
    Var("AVR_VAULT_BACKEND", "filesystem", "新原始文件写入的存储后端：filesystem 或 s3（已存对象留在原后端）/ where new objects go"),
    Var("AVR_S3_ENDPOINT", "", "S3 服务地址，如 http://127.0.0.1:7480（Ceph RGW）；AWS 留空 / S3 endpoint URL"),
    Var("AVR_S3_REGION", "us-east-1", "S3 区域 / region"),
    Var("AVR_S3_ACCESS_KEY", "", "S3 访问密钥 ID / access key id"),
    Var("AVR_S3_SECRET_KEY", "", "S3 访问密钥 / secret access key"),
    Var("AVR_S3_BUCKET", "avr-originals", "原始文件存储桶（须开启版本控制与对象锁定）/ originals bucket (versioning + Object Lock)"),
    Var("AVR_S3_DERIVATIVE_BUCKET", "", "衍生资料与上传暂存的存储桶（不加锁），默认 <原始桶>-derivatives / derivatives + staging bucket"),
    Var("AVR_S3_PREFIX", "", "对象键前缀（多套平台共用存储桶时区分）/ key prefix"),
    Var("AVR_S3_ADDRESSING", "path", "寻址方式：path 或 virtual / addressing style"),
    Var("AVR_S3_LOCK_MODE", "COMPLIANCE", "对象锁定模式：COMPLIANCE（合规，任何人不能提前删除）或 GOVERNANCE / Object Lock mode"),
    Var("AVR_S3_CREATE_BUCKETS", "1", "启动时存储桶不存在则创建（1/0）/ create missing buckets at start"),
    Var("AVR_RETENTION_FLOOR_DAYS", "730", "原始文件最短保存天数（SAMR 第十三条：至少两年），保存期限功能上线前用作对象锁定期限 / retention floor in days"),
    Var("DATABASE_URL", "", "数据库，默认 SQLite；PostgreSQL 例：postgres://user@127.0.0.1:5432/avr"),
    Var("REDIS_URL", "", "设置后后台任务队列使用 Redis / Huey on Redis when set"),
    Var("AVR_SECRET_KEY", "", "Django 密钥，默认生成并保存在 $AVR_VAR_DIR/secret_key"),
    Var("AVR_DEBUG", "0", "调试模式 / debug mode (1/0)"),
    Var("AVR_ALLOWED_HOSTS", "127.0.0.1,localhost", "允许的主机名，逗号分隔"),
    Var("AVR_HTTPS", "auto", "HTTPS 部署：Secure Cookie 与 HSTS（auto：主机名不是本机回环地址时开启；1/0 强制）/ Secure cookies and HSTS"),
    Var("AVR_CSRF_TRUSTED_ORIGINS", "", "受信任的来源，逗号分隔 / CSRF trusted origins"),
    Var("AVR_TRUSTED_PROXIES", "", "本平台自己的负载均衡器地址或网段（逗号分隔），来自它们的请求按 X-Forwarded-For 记录客户端地址 / proxies whose X-Forwarded-For is believed"),
    Var("AVR_TIME_ZONE", "Asia/Shanghai", "时区 / time zone"),
    Var("AVR_HUEY_IMMEDIATE", "0", "任务同步执行（测试用）/ run tasks inline (tests)"),
    Var("AVR_HUEY_WORKERS", "2", "后台工作线程数 / worker threads"),
    Var("AVR_INGEST_STALLED_SECONDS", "180", "入库项多久没有心跳即视为后台进程已丢失并重新处理（秒）/ seconds without a heartbeat before an ingest item is run again"),
    Var("AVR_FIXITY_BATCH", "200", "每次定期校验的对象数 / objects per periodic fixity run"),
    Var("AVR_UPLOAD_MAX_BYTES", str(64 * 1024**3), "单个上传文件上限（字节）/ max upload size"),
    Var("AVR_BIND", "127.0.0.1:8000", "Web 服务监听地址 / web server bind address"),
    Var("AVR_WEB_WORKERS", "0", "Web 进程数，0 为本机 CPU 核数 / gunicorn worker processes (0: one per core)"),
    Var("AVR_ACCESS_LOG", "-", "Web 访问日志：- 为标准输出，留空不记录 / gunicorn access log (- stdout, empty off)"),
    Var("AVR_WEB_THREADS", "16", "每个 Web 进程的线程数 / threads per worker"),
    Var("AVR_LOG_ORIGIN", "", "保管日志检查点的来源名，默认 avrecords.example/<根部门机构代码>；上线前应设为本单位域名加路径 / checkpoint origin line"),
    Var("AVR_LOG_KEY_FILE", "", "日志签名私钥（Ed25519），默认 $AVR_VAR_DIR/keys/log-ed25519.key，不入数据库 / log signing key file"),
    Var("AVR_LOG_SM2", "1", "检查点另加 SM2 国密签名（1/0）/ add an SM2 signature line"),
    Var("AVR_LOG_SM2_KEY_FILE", "", "日志 SM2 私钥，默认 $AVR_VAR_DIR/keys/log-sm2.key / SM2 log key file"),
    Var("AVR_LOGIN_FAILURE_LIMIT", "5", "连续登录失败几次后锁定（按账号、按客户端地址分别计）/ failed sign-ins before a lockout"),
    Var("AVR_LOGIN_LOCKOUT_MINUTES", "15", "锁定时长（分钟）/ lockout minutes"),
    Var("AVR_PASSWORD_HISTORY", "5", "不得重复使用最近几次的密码 / passwords remembered against reuse"),
    Var("AVR_PASSWORD_MAX_AGE_DAYS", "90", "密码最长使用天数，到期后登录时须修改；0 为不限 / maximum password age in days"),
    Var("AVR_SESSION_IDLE_MINUTES", "30", "无操作多少分钟后自动退出登录 / idle minutes before sign-out"),
    Var("AVR_API_TOKEN_DAYS", "90", "接口令牌有效天数，到期后须重新签发 / API token lifetime in days"),
    Var("AVR_LOG_CHECKPOINT_MINUTES", "5", "每隔几分钟签发一个检查点 / minutes between checkpoints"),
    Var("AVR_LOG_WITNESSES", "", "见证人公钥（cosignature/v1 验证密钥文本），多个用逗号分隔 / witness verifier keys"),
    Var("AVR_PDF_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "生成 PDF（可打印的检查点）所用的中文字体文件（Debian 软件包 fonts-noto-cjk）/ CJK font for PDFs"),
]

_BY_NAME = {v.name: v for v in VARIABLES}


def env_str(name: str) -> str:
    return os.environ.get(name, _BY_NAME[name].default)


def env_bool(name: str) -> bool:
    return env_str(name).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str) -> int:
    return int(env_str(name))


def env_list(name: str) -> list[str]:
    return [item.strip() for item in env_str(name).split(",") if item.strip()]
