"""Issue 7: the hash chain becomes an RFC 9162 Merkle tree (docs/custody-log.md).

Existing events move into the tree in their old order: each gets an ``event_uid``, its details
move to their own row with a salt and a digest, its subject to the link table, and it gets
leaf ``seq - 1``. The old chain is re-checked first and a ``custody.log_migrated`` event (the
last leaf) records its head hash, that check's result and the last stored verification, so
nothing of the old proof is lost. The guards are dropped for the move and re-created after, on
the new tables too; event details may change once, by lawful erasure, and in no other way.
"""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.guards import append_only_guard, guard_statements
from custody.entries import canonical_details, digest_of, entry_leaf_hash, new_salt
from custody.merkle import Frontier


def drop_event_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _create, drop = guard_statements(("custody_event",), function="custody_event_refuse", what="custody log")[vendor]
    for sql in drop:
        if vendor == "postgresql" and sql.startswith("DROP FUNCTION"):
            continue  # kept: the new guard re-creates it under the same name
        schema_editor.execute(sql, params=None)


def _old_hash(row) -> str:
    """The retired chain hash (custody/hashing.py at 0008), frozen here for the re-check."""
    payload = {name: row[name] for name in (
        "seq", "occurred_at", "actor_id", "actor_name", "action", "subject_type", "subject_id",
        "details", "request_id", "prev_hash")}
    payload["occurred_at"] = payload["occurred_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fold_chain_into_tree(apps, schema_editor):
    Event = apps.get_model("custody", "Event")
    EventDetails = apps.get_model("custody", "EventDetails")
    EventSubject = apps.get_model("custody", "EventSubject")
    Leaf = apps.get_model("custody", "Leaf")
    TreeNode = apps.get_model("custody", "TreeNode")
    ChainVerification = apps.get_model("custody", "ChainVerification")
    if not Event.objects.exists():
        return
    frontier = Frontier()
    now = datetime.now(UTC)
    prev, expected_seq, broken_at, head = "0" * 64, 1, None, None
    fields = ("id", "seq", "occurred_at", "actor_id", "actor_name", "action", "subject_type",
              "subject_id", "details", "request_id", "prev_hash", "hash")

    def add(event_id, row, subjects):
        index = frontier.size
        nodes = frontier.append(entry_leaf_hash(row, subjects))
        Leaf.objects.create(index=index, event_id=event_id, integrated_at=now)
        TreeNode.objects.bulk_create([TreeNode(level=lv, index=ix, hash=h.hex()) for lv, ix, h in nodes])

    last_seq = 0
    while True:
        rows = list(Event.objects.filter(seq__gt=last_seq).order_by("seq").values(*fields)[:2000])
        if not rows:
            break
        for row in rows:
            last_seq = row["seq"]
            if broken_at is None and (row["seq"] != expected_seq or row["prev_hash"] != prev or _old_hash(row) != row["hash"]):
                broken_at = row["seq"]
            prev, expected_seq, head = row["hash"], row["seq"] + 1, row
            salt = new_salt()
            uid = uuid.uuid4()
            content = canonical_details(row["details"])
            digest = digest_of(salt, content)
            Event.objects.filter(pk=row["id"]).update(event_uid=uid, details_digest=digest)
            EventDetails.objects.create(event_id=row["id"], content=content, salt=salt)
            EventSubject.objects.create(event_id=row["id"], subject_type=row["subject_type"], subject_id=row["subject_id"])
            add(row["id"], {**row, "event_uid": uid, "details_digest": digest}, [(row["subject_type"], row["subject_id"])])
    last = ChainVerification.objects.order_by("-checked_at", "-pk").first()
    details = {
        "old_head_seq": head["seq"],
        "old_head_hash": head["hash"],
        "old_chain_status": "fail" if broken_at else "pass",
        "old_first_broken_seq": broken_at,
        "last_verification": None if last is None else {
            "id": last.pk, "status": last.status, "checked_at": last.checked_at.isoformat(),
            "last_seq": last.last_seq, "last_hash": last.last_hash,
        },
    }
    salt = new_salt()
    row = {"event_uid": uuid.uuid4(), "occurred_at": now, "actor_id": None, "actor_name": "系统",
           "action": "custody.log_migrated", "details_digest": digest_of(salt, details), "request_id": ""}
    event = Event.objects.create(seq=head["seq"] + 1, prev_hash=head["hash"], hash=uuid.uuid4().hex * 2,
                                 details=details, subject_type="system", subject_id="", **row)
    EventDetails.objects.create(event_id=event.pk, content=details, salt=salt)
    EventSubject.objects.create(event_id=event.pk, subject_type="system", subject_id="")
    add(event.pk, row, [("system", "")])


DETAILS_SQLITE = [
    """CREATE TRIGGER custody_eventdetails_no_update BEFORE UPDATE ON custody_eventdetails
       WHEN NOT (OLD.erased_by IS NULL AND NEW.erased_by IS NOT NULL AND NEW.salt = ''
                 AND NEW.content = '{}' AND NEW.event_id = OLD.event_id)
       BEGIN SELECT RAISE(ABORT, 'event details change only by lawful erasure: UPDATE refused'); END;""",
    """CREATE TRIGGER custody_eventdetails_no_delete BEFORE DELETE ON custody_eventdetails
       BEGIN SELECT RAISE(ABORT, 'event details change only by lawful erasure: DELETE refused'); END;""",
]
DETAILS_POSTGRES = [
    """CREATE OR REPLACE FUNCTION custody_eventdetails_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND OLD.erased_by IS NULL AND NEW.erased_by IS NOT NULL
            AND NEW.salt = '' AND NEW.content = '{}'::jsonb AND NEW.event_id = OLD.event_id THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'event details change only by lawful erasure: % refused', TG_OP;
       END;
       $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER custody_eventdetails_no_update BEFORE UPDATE OR DELETE ON custody_eventdetails
       FOR EACH ROW EXECUTE FUNCTION custody_eventdetails_guard();""",
    """CREATE TRIGGER custody_eventdetails_no_truncate BEFORE TRUNCATE ON custody_eventdetails
       FOR EACH STATEMENT EXECUTE FUNCTION custody_event_refuse();""",
]


def guard_details(apps, schema_editor):
    for sql in DETAILS_POSTGRES if schema_editor.connection.vendor == "postgresql" else DETAILS_SQLITE:
        schema_editor.execute(sql, params=None)


def unguard_details(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = ["DROP TRIGGER IF EXISTS custody_eventdetails_no_update ON custody_eventdetails;",
                      "DROP TRIGGER IF EXISTS custody_eventdetails_no_truncate ON custody_eventdetails;",
                      "DROP FUNCTION IF EXISTS custody_eventdetails_guard();"]
    else:
        statements = ["DROP TRIGGER IF EXISTS custody_eventdetails_no_update;",
                      "DROP TRIGGER IF EXISTS custody_eventdetails_no_delete;"]
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('custody', '0008_audit_paging_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_event_guard, migrations.RunPython.noop),
        migrations.CreateModel(
            name='Checkpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('size', models.BigIntegerField(unique=True, verbose_name='树大小')),
                ('root', models.CharField(max_length=64, verbose_name='根哈希')),
                ('note', models.TextField(verbose_name='签名检查点')),
                ('created_at', models.DateTimeField(verbose_name='签发时间')),
                ('trigger', models.CharField(max_length=16, verbose_name='触发方式')),
            ],
            options={
                'verbose_name': '检查点',
                'verbose_name_plural': '检查点',
                'ordering': ['-size'],
            },
        ),
        migrations.CreateModel(
            name='Cosignature',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('witness_name', models.CharField(max_length=200, verbose_name='见证人')),
                ('key_id', models.CharField(max_length=8, verbose_name='密钥标识')),
                ('signed_at', models.DateTimeField(verbose_name='联署时间')),
                ('line', models.TextField(verbose_name='联署签名行')),
                ('received_at', models.DateTimeField(verbose_name='收到时间')),
            ],
            options={
                'verbose_name': '见证联署',
                'verbose_name_plural': '见证联署',
            },
        ),
        migrations.CreateModel(
            name='EventDetails',
            fields=[
                ('event', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='details_row', serialize=False, to='custody.event')),
                ('content', models.JSONField(default=dict, verbose_name='详情')),
                ('salt', models.CharField(blank=True, max_length=64, verbose_name='摘要盐值')),
                ('erased_by', models.BigIntegerField(blank=True, null=True, verbose_name='删除事件')),
                ('erased_at', models.DateTimeField(blank=True, null=True, verbose_name='删除时间')),
            ],
            options={
                'verbose_name': '事件详情',
                'verbose_name_plural': '事件详情',
            },
        ),
        migrations.CreateModel(
            name='EventSubject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subject_type', models.CharField(max_length=32, verbose_name='对象类型')),
                ('subject_id', models.CharField(max_length=64, verbose_name='对象编号')),
            ],
            options={
                'verbose_name': '事件对象',
                'verbose_name_plural': '事件对象',
            },
        ),
        migrations.CreateModel(
            name='Leaf',
            fields=[
                ('index', models.BigIntegerField(primary_key=True, serialize=False, verbose_name='叶子序号')),
                ('integrated_at', models.DateTimeField(verbose_name='入树时间')),
            ],
            options={
                'verbose_name': '日志叶子',
                'verbose_name_plural': '日志叶子',
                'ordering': ['index'],
            },
        ),
        migrations.CreateModel(
            name='PendingEvent',
            fields=[
                ('event', models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='custody.event')),
            ],
            options={
                'verbose_name': '待入树事件',
                'verbose_name_plural': '待入树事件',
            },
        ),
        migrations.CreateModel(
            name='TreeNode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.SmallIntegerField()),
                ('index', models.BigIntegerField()),
                ('hash', models.CharField(max_length=64)),
            ],
            options={
                'verbose_name': '默克尔树节点',
                'verbose_name_plural': '默克尔树节点',
            },
        ),
        migrations.AddField(
            model_name='cosignature',
            name='checkpoint',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='cosignatures', to='custody.checkpoint'),
        ),
        migrations.AddField(
            model_name='eventsubject',
            name='event',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='subject_links', to='custody.event'),
        ),
        migrations.AddField(
            model_name='leaf',
            name='event',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='leaf', to='custody.event'),
        ),
        migrations.AddField(
            model_name='event',
            name='event_uid',
            field=models.UUIDField(null=True, editable=False, verbose_name='事件标识'),
        ),
        migrations.AddField(
            model_name='event',
            name='details_digest',
            field=models.CharField(default='', max_length=64, verbose_name='详情摘要'),
            preserve_default=False,
        ),
        migrations.RunPython(fold_chain_into_tree, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='event',
            name='custody_subject_idx',
        ),
        migrations.RemoveIndex(
            model_name='event',
            name='custody_actor_idx',
        ),
        migrations.RemoveIndex(
            model_name='event',
            name='custody_action_idx',
        ),
        migrations.RemoveIndex(
            model_name='event',
            name='custody_actor_name_idx',
        ),
        migrations.RemoveField(
            model_name='event',
            name='details',
        ),
        migrations.RemoveField(
            model_name='event',
            name='hash',
        ),
        migrations.RemoveField(
            model_name='event',
            name='prev_hash',
        ),
        migrations.RemoveField(
            model_name='event',
            name='seq',
        ),
        migrations.AlterField(
            model_name='event',
            name='event_uid',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='事件标识'),
        ),
        migrations.AlterField(
            model_name='event',
            name='details_digest',
            field=models.CharField(max_length=64, verbose_name='详情摘要'),
            preserve_default=False,
        ),
        migrations.AlterModelOptions(
            name='event',
            options={'ordering': ['id'], 'verbose_name': '保管链事件', 'verbose_name_plural': '保管链事件'},
        ),
        migrations.AlterField(
            model_name='chainverification',
            name='first_broken_seq',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='第一个有问题的事件'),
        ),
        migrations.AlterField(
            model_name='chainverification',
            name='last_hash',
            field=models.CharField(blank=True, max_length=64, verbose_name='根哈希'),
        ),
        migrations.AlterField(
            model_name='chainverification',
            name='last_seq',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='树大小'),
        ),
        migrations.AlterField(
            model_name='event',
            name='action',
            field=models.CharField(choices=[('auth.login', '登录'), ('auth.logout', '退出登录'), ('auth.login_failed', '登录失败'), ('auth.password_changed', '修改密码'), ('orgs.person_created', '创建人员'), ('orgs.role_assigned', '授予角色'), ('orgs.department_created', '创建部门'), ('orgs.unit_created', '创建执法机构'), ('orgs.token_issued', '签发接口令牌'), ('ingest.upload_started', '开始上传'), ('ingest.upload_completed', '上传完成'), ('ingest.upload_terminated', '取消上传'), ('ingest.upload_rejected', '上传被拒绝'), ('ingest.duplicate_linked', '重复文件已关联'), ('ingest.flagged', '入库标记异常'), ('ingest.failed', '入库失败'), ('ingest.late_reason', '说明逾期原因'), ('storage.stored', '原始文件已入库'), ('storage.derivative_stored', '衍生资料已生成'), ('storage.fixity_passed', '完整性校验通过'), ('storage.fixity_failed', '完整性校验失败'), ('storage.fixity_not_run', '完整性校验未能执行'), ('recordings.catalogued', '编目'), ('recordings.metadata_changed', '修改元数据'), ('access.viewed', '查看'), ('access.played', '播放'), ('access.downloaded', '下载'), ('access.denied', '拒绝访问'), ('orgs.token_revoked', '吊销接口令牌'), ('auth.password_reset', '重置密码'), ('custody.chain_verified', '校验保管链'), ('custody.log_key_rotated', '轮换日志签名密钥'), ('custody.log_migrated', '保管链迁入默克尔树'), ('custody.checkpoint_signed', '签发检查点'), ('custody.checkpoint_refused', '拒绝签发检查点'), ('custody.checkpoint_cosigned', '见证人联署检查点'), ('custody.details_erased', '依法删除事件详情'), ('audit.register_exported', '导出查阅登记')], max_length=64, verbose_name='动作'),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['actor', 'id'], name='custody_actor_idx'),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['action', 'id'], name='custody_action_idx'),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['actor_name', 'id'], name='custody_actor_name_idx'),
        ),
        migrations.AddConstraint(
            model_name='treenode',
            constraint=models.UniqueConstraint(fields=('level', 'index'), name='custody_node_once'),
        ),
        migrations.AddConstraint(
            model_name='cosignature',
            constraint=models.UniqueConstraint(fields=('checkpoint', 'witness_name', 'key_id'), name='custody_cosign_once'),
        ),
        migrations.AddIndex(
            model_name='eventsubject',
            index=models.Index(fields=['subject_type', 'subject_id', 'event'], name='custody_link_subject_idx'),
        ),
        append_only_guard(
            ("custody_event", "custody_eventsubject", "custody_leaf", "custody_treenode",
             "custody_checkpoint", "custody_cosignature"),
            function="custody_event_refuse", what="custody log",
        ),
        migrations.RunPython(guard_details, unguard_details),
    ]
