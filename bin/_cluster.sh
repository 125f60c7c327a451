# Local scale-out cluster on one machine (sourced by bin/cluster, after _setup.sh and _ceph.sh).
#
# Two web nodes (gunicorn), two Huey workers, PostgreSQL, a private Redis and a single-node Ceph
# RGW, behind nginx on one port — the production layout of deploy/ (nginx/avrecords.conf,
# systemd/*.service) squeezed onto 127.0.0.1, for tests and benchmarks.
#
# Layout of the cluster directory DIR (everything the cluster writes is in it):
#   .avr-cluster          marker: this directory is a cluster's (start only wipes such a directory)
#   cluster.env           the environment every node shares (KEY=VALUE lines, no quoting)
#   cluster.meta          ports, database, --keep, URLs (KEY=VALUE lines)
#   pids/<name>.pid       "PID STARTTIME" of nginx, webA, webB, worker1, worker2, redis (each the
#                         leader of a session and process group of its own)
#   logs/<name>.log       one log per process; nginx-access.log has the upstream of each request
#   keys/                 the custody log keys, the same files for every node
#   setup/                AVR_VAR_DIR of the set-up commands (migrate, bootstrap) and of
#                         `bin/cluster env`; setup/static is every web node's static/
#   webA/ webB/ worker1/ worker2/   each process's own AVR_VAR_DIR
#   nginx/ redis/ ceph/   the three services' own files
#
# Functions: cluster_start DIR [DEMO] [KEEP], cluster_stop DIR [DROP], cluster_status DIR, cluster_env DIR,
# cluster_kill NODE DIR, cluster_restart_node NODE DIR, cluster_running DIR.

CLUSTER_NODES=(webA webB worker1 worker2)
# The variables the cluster sets itself; any other platform variable (config/env.py) the caller
# has set when `start` runs is copied into cluster.env (AVR_WEB_WORKERS, AVR_HUEY_WORKERS, ...).
CLUSTER_MANAGED=(AVR_VAR_DIR AVR_VAULT_DIR AVR_VAULT_BACKEND AVR_S3_ENDPOINT AVR_S3_ACCESS_KEY
    AVR_S3_SECRET_KEY AVR_S3_BUCKET AVR_S3_DERIVATIVE_BUCKET AVR_S3_PREFIX AVR_S3_CREATE_BUCKETS
    DATABASE_URL REDIS_URL AVR_SECRET_KEY AVR_ALLOWED_HOSTS AVR_CSRF_TRUSTED_ORIGINS
    AVR_HUEY_IMMEDIATE AVR_BIND AVR_LOG_KEY_FILE AVR_LOG_SM2_KEY_FILE)

_cluster_dir() { realpath -m -- "${1:?cluster directory}"; }

# _cluster_get FILE KEY: the value of KEY in a KEY=VALUE file (empty when absent).
_cluster_get() {
    local line
    [ -f "$1" ] || return 0
    while IFS= read -r line; do
        if [ "${line%%=*}" = "$2" ]; then
            printf '%s\n' "${line#*=}"
            return 0
        fi
    done <"$1"
}

# _cluster_starttime PID: the process's start time (clock ticks since boot, /proc/PID/stat field
# 22): with the pid it names one process, even after the pid has been reused.
_cluster_starttime() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"  # the fields after "pid (comm) ", from field 3
    # shellcheck disable=SC2086
    set -- $stat
    echo "${20}"
}

# _cluster_record DIR NAME PID: pids/NAME.pid holds "PID STARTTIME".
_cluster_record() {
    echo "$3 $(_cluster_starttime "$3" || echo 0)" >"$1/pids/$2.pid"
}

# _cluster_pid DIR NAME: the pid (= process group) of NAME, or nothing when the recorded process is
# not ours any more. Ours: the leader runs with the recorded start time, or the leader is gone but
# members of its group run (Linux gives no new process a pid still in use as a process group).
_cluster_pid() {
    local pid start now
    read -r pid start 2>/dev/null <"$1/pids/$2.pid" || return 0
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if now="$(_cluster_starttime "$pid")"; then
        [ -z "$start" ] || [ "$start" = "0" ] || [ "$now" = "$start" ] || return 0
    fi
    echo "$pid"
}

# _cluster_alive DIR NAME: the process recorded for NAME runs (a live process, not a zombie).
_cluster_alive() {
    local pid
    pid="$(_cluster_pid "$1" "$2")"
    [ -n "$pid" ] && _ceph_alive "$pid"
}

# _cluster_group_alive PGID: some live (not zombie) process is in this process group: gunicorn's
# workers may outlive a master that was killed alone.
_cluster_group_alive() {
    ps -e -o pgid= -o stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

_cluster_any_alive() {
    local dir="$1" name pid
    for name in nginx "${CLUSTER_NODES[@]}" redis; do
        pid="$(_cluster_pid "$dir" "$name")"
        [ -n "$pid" ] || continue
        _cluster_group_alive "$pid" && return 0
    done
    ceph_running "$dir/ceph"
}

cluster_running() { _cluster_any_alive "$(_cluster_dir "$1")"; }

# _cluster_pg ACTION ADMIN_URL [NAME]: create / drop / url through psycopg (the venv's driver).
_cluster_pg() {
    "$PY" - "$@" <<'PYEOF'
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

action, admin = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else ""
u = urlsplit(admin)
if action == "url":
    print(urlunsplit((u.scheme, u.netloc, "/" + name, u.query, "")))
    sys.exit(0)
conn = psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username,
                       password=u.password, dbname=(u.path or "/postgres").lstrip("/") or "postgres",
                       connect_timeout=5, autocommit=True)
with conn:
    if action == "check":
        conn.execute("SELECT 1")
    elif action == "drop":
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    elif action == "create":
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    elif action == "exists":
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        sys.exit(0 if row else 1)
PYEOF
}

# _cluster_env_args DIR NODE: "KEY=VALUE" lines for `env -i`: a minimal base, cluster.env, then
# the node's own AVR_VAR_DIR (and AVR_BIND for a web node).
_cluster_env_args() {
    local dir="$1" node="$2" line var
    printf '%s\n' "PATH=$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    for var in HOME LANG LC_ALL TMPDIR; do
        [ -n "${!var:-}" ] && printf '%s\n' "$var=${!var}"
    done
    printf '%s\n' "PYTHONUNBUFFERED=1" "DJANGO_SETTINGS_MODULE=config.settings"
    while IFS= read -r line; do
        [ -n "$line" ] && [ "${line:0:1}" != "#" ] && printf '%s\n' "$line"
    done <"$dir/cluster.env"
    printf '%s\n' "AVR_VAR_DIR=$dir/$node"
    case "$node" in
        webA|webB) printf '%s\n' "AVR_BIND=127.0.0.1:$(_cluster_get "$dir/cluster.meta" "${node^^}_PORT")" ;;
    esac
}

# _cluster_run DIR NAME CMD...: run CMD in the cluster's environment as NAME (setup, webA, ...),
# in the foreground.
_cluster_run() {
    local dir="$1" node="$2" envs=()
    shift 2
    mapfile -t envs < <(_cluster_env_args "$dir" "$node")
    mkdir -p "$dir/$node"
    (cd "$AVR_ROOT" && env -i "${envs[@]}" "$@") 9>&-
}

# _cluster_spawn DIR NAME CMD...: start CMD as the leader of a new session (its pid is the
# process group of it and its children), output to logs/NAME.log, pid to pids/NAME.pid.
_cluster_spawn() {
    local dir="$1" node="$2" envs=() pid
    shift 2
    mapfile -t envs < <(_cluster_env_args "$dir" "$node")
    mkdir -p "$dir/$node"
    # setsid: a background child of a script is never a process group leader, so setsid(1)
    # calls setsid() itself and then execs: $! is the session leader's pid.
    (cd "$AVR_ROOT" && exec setsid env -i "${envs[@]}" "$@") >>"$dir/logs/$node.log" 2>&1 </dev/null 9>&- &
    pid=$!
    _cluster_record "$dir" "$node" "$pid"
}

_cluster_http_code() {
    curl -s -o /dev/null --max-time 5 -w '%{http_code}' -X "$1" "$2" 2>/dev/null || true
}

# _cluster_wait_web DIR NODE: the node answers the tus OPTIONS (as core/testing_server.py waits).
_cluster_wait_web() {
    local dir="$1" node="$2" port
    port="$(_cluster_get "$dir/cluster.meta" "${node^^}_PORT")"
    for _ in $(seq 1 240); do
        [ "$(_cluster_http_code OPTIONS "http://127.0.0.1:$port/api/v1/uploads/")" = "204" ] && return 0
        _cluster_alive "$dir" "$node" || break
        sleep 0.25
    done
    warn "$node 未能启动 / $node did not come up (127.0.0.1:$port), $dir/logs/$node.log (最后 20 行 / last 20 lines):"
    tail -n 20 "$dir/logs/$node.log" >&2 || true
    return 1
}

# _cluster_wait_worker DIR NODE: the Huey consumer logged its start.
_cluster_wait_worker() {
    local dir="$1" node="$2" from="${3:-0}"
    for _ in $(seq 1 240); do
        tail -c "+$((from + 1))" "$dir/logs/$node.log" 2>/dev/null | grep -q "Huey consumer started" && return 0
        _cluster_alive "$dir" "$node" || break
        sleep 0.25
    done
    warn "$node 未能启动 / $node did not come up, $dir/logs/$node.log (最后 20 行 / last 20 lines):"
    tail -n 20 "$dir/logs/$node.log" >&2 || true
    return 1
}

_cluster_log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# _cluster_spawn_node DIR NODE: start one web node or worker (without waiting for it).
_cluster_spawn_node() {
    local dir="$1" node="$2"
    case "$node" in
        webA|webB)
            # one collectstatic for both nodes (WhiteNoise serves $AVR_VAR_DIR/static)
            mkdir -p "$dir/$node"
            [ -e "$dir/$node/static" ] || ln -s "$dir/setup/static" "$dir/$node/static"
            _cluster_spawn "$dir" "$node" "$VENV/bin/gunicorn" -c config/gunicorn.conf.py
            ;;
        worker1)
            # the one consumer that enqueues the periodic tasks (deploy/systemd/avr-scheduler.service)
            _cluster_spawn "$dir" "$node" "$PY" manage.py run_huey
            ;;
        worker2)
            # deploy/systemd/avr-worker@.service
            _cluster_spawn "$dir" "$node" "$PY" manage.py run_huey --no-periodic
            ;;
        *) warn "未知节点 / unknown node: $node (${CLUSTER_NODES[*]})"; return 1 ;;
    esac
}

# _cluster_wait_node DIR NODE [LOG_OFFSET]: wait until the node is ready.
_cluster_wait_node() {
    case "$2" in
        webA|webB) _cluster_wait_web "$1" "$2" ;;
        *) _cluster_wait_worker "$1" "$2" "${3:-0}" ;;
    esac
}

# _cluster_terminate GRACE NAME:SIGNAL:PGID...: SIGNAL to each process group, GRACE seconds for
# all of them to exit, then SIGKILL to what is left; waits until they are gone.
_cluster_terminate() {
    local grace="$1" item left=() still sig pgid
    shift
    [ $# -eq 0 ] && return 0
    for item in "$@"; do
        IFS=: read -r _ sig pgid <<<"$item"
        kill "-$sig" -- "-$pgid" 2>/dev/null || true
    done
    for _ in $(seq 1 $((grace * 10))); do
        left=()
        for item in "$@"; do _cluster_group_alive "${item##*:}" && left+=("$item"); done
        [ ${#left[@]} -eq 0 ] && return 0
        sleep 0.1
    done
    warn "$grace 秒内未退出，强制结束 / still running after $grace s, killing: ${left[*]%%:*}"
    for item in "${left[@]}"; do kill -KILL -- "-${item##*:}" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
        still=0
        for item in "${left[@]}"; do _cluster_group_alive "${item##*:}" && still=1; done
        [ "$still" -eq 0 ] && return 0
        sleep 0.1
    done
    warn "无法结束 / could not stop: ${left[*]%%:*}"
    return 1
}

# _cluster_stop_names DIR GRACE NAME:SIGNAL...: stop those of the named processes that run,
# together; forget their pid files once they are gone.
_cluster_stop_names() {
    local dir="$1" grace="$2" spec name pid items=() status=0
    shift 2
    for spec in "$@"; do
        name="${spec%%:*}"
        pid="$(_cluster_pid "$dir" "$name")"
        [ -n "$pid" ] || continue
        _cluster_group_alive "$pid" && items+=("$spec:$pid")
    done
    if [ ${#items[@]} -gt 0 ]; then
        _cluster_terminate "$grace" "${items[@]}" || status=1
    fi
    if [ "$status" -eq 0 ]; then
        for spec in "$@"; do rm -f "$dir/pids/${spec%%:*}.pid"; done
    fi
    return "$status"
}

_cluster_port_in() {
    local port="$1" used
    shift
    for used in "$@"; do [ "$port" = "$used" ] && return 0; done
    return 1
}

_cluster_nginx_conf() {
    local dir="$1" public="$2" a="$3" b="$4" user_line=""
    # As root, nginx's workers would run as nobody and could not reach DIR (often mode 0700 under
    # /tmp): keep them as the invoking user. Everything listens on 127.0.0.1 only.
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    mkdir -p "$dir/nginx/tmp"
    cat >"$dir/nginx/nginx.conf" <<NGINX
# Written by bin/cluster start: deploy/nginx/avrecords.conf on 127.0.0.1, without TLS.
$user_line
worker_processes 2;
pid $dir/nginx/nginx.pid;
error_log $dir/logs/nginx-error.log warn;
events { worker_connections 1024; }

http {
    default_type application/octet-stream;
    log_format avr '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                   'upstream=\$upstream_addr upstream_status=\$upstream_status time=\$request_time';
    access_log $dir/logs/nginx-access.log avr;
    client_body_temp_path $dir/nginx/tmp/body;
    proxy_temp_path $dir/nginx/tmp/proxy;
    fastcgi_temp_path $dir/nginx/tmp/fastcgi;
    uwsgi_temp_path $dir/nginx/tmp/uwsgi;
    scgi_temp_path $dir/nginx/tmp/scgi;

    # Ordinary pages, the API, ranged video: any web node.
    upstream avr_web {
        least_conn;
        server 127.0.0.1:$a max_fails=3 fail_timeout=30s;   # webA
        server 127.0.0.1:$b max_fails=3 fail_timeout=30s;   # webB
        keepalive 32;
    }

    # tus uploads: the requests of one upload go to one node (its digester is in that process);
    # a node that refuses the connection is skipped and the upload resumes on the other one.
    upstream avr_uploads {
        hash \$request_uri consistent;
        server 127.0.0.1:$a max_fails=3 fail_timeout=30s;   # webA
        server 127.0.0.1:$b max_fails=3 fail_timeout=30s;   # webB
        keepalive 16;
    }

    server {
        listen 127.0.0.1:$public;
        server_tokens off;
        large_client_header_buffers 4 16k;
        client_max_body_size 0;

        proxy_request_buffering off;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        # with the port: the browser's Origin is http://127.0.0.1:<port> (CSRF)
        proxy_set_header Host \$http_host;
        proxy_set_header X-Forwarded-Host \$http_host;
        proxy_set_header X-Forwarded-Proto \$scheme;
        proxy_set_header X-Forwarded-For \$remote_addr;

        proxy_next_upstream error timeout;
        proxy_connect_timeout 5s;
        proxy_read_timeout 600s;
        proxy_send_timeout 600s;

        # which node answered (tests, benchmarks): "127.0.0.1:<port>", or a list when one was skipped
        add_header X-Upstream \$upstream_addr always;

        location /api/v1/uploads/ {
            proxy_pass http://avr_uploads;
            client_body_timeout 300s;
            proxy_send_timeout 3600s;
            proxy_read_timeout 3600s;
        }

        location /static/ {
            proxy_pass http://avr_web;
            proxy_buffering on;
        }

        location / {
            proxy_pass http://avr_web;
        }
    }
}
NGINX
}

_cluster_wait_nginx() {
    local dir="$1" url="$2"
    for _ in $(seq 1 120); do
        [ "$(_cluster_http_code GET "$url/login/")" = "200" ] && return 0
        _cluster_alive "$dir" nginx || break
        sleep 0.25
    done
    warn "nginx 未能启动或 /login/ 无响应 / nginx did not come up or $url/login/ does not answer:"
    tail -n 20 "$dir/logs/nginx-error.log" >&2 2>/dev/null || true
    tail -n 20 "$dir/logs/nginx.log" >&2 2>/dev/null || true
    return 1
}

_cluster_elapsed() { awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $1 }"; }

# cluster_start DIR [demo] [keep]: a fresh cluster in DIR (a previous stopped one is wiped).
cluster_start() {
    local dir demo="${2:-0}" keep="${3:-0}" t0="$EPOCHREALTIME"
    dir="$(_cluster_dir "$1")"
    local tool nginx_bin
    for tool in redis-server redis-cli curl setsid ps; do
        command -v "$tool" >/dev/null 2>&1 || die "找不到 $tool / $tool not found (apt-get install redis-server curl procps)"
    done
    nginx_bin="$(command -v nginx || true)"
    [ -n "$nginx_bin" ] || { [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx; }
    [ -n "$nginx_bin" ] || die "找不到 nginx / nginx not found (apt-get install nginx-light)"

    if _cluster_any_alive "$dir"; then
        die "$dir 中的集群已在运行（先 bin/cluster stop）/ a cluster is already running in $dir (bin/cluster stop first)"
    fi
    if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/.avr-cluster" ]; then
        die "$dir 非空且不是集群目录，不删除 / $dir is not empty and is not a cluster directory: not wiping it"
    fi
    # a previous cluster's database (stopped with --keep, or never stopped): dropped below anyway
    rm -rf "$dir"
    mkdir -p "$dir"/{pids,logs,keys,setup,nginx,redis} || die "无法创建 / cannot create $dir"
    echo "$dir" >"$dir/.avr-cluster"
    CLUSTER_DIR="$dir"
    CLUSTER_CEPH_JOB=""
    # the caller's stderr, for _cluster_abort; every process started below gets 9>&-, or a caller
    # reading our output through a pipe would never see it end
    exec 9>&2
    # Ctrl-C (or a kill) while starting: stop what already runs
    trap '_cluster_abort "$CLUSTER_DIR" "启动被中断 / start interrupted"' INT TERM

    # --- ports -------------------------------------------------------------------------------
    local public a b redis mon used=()
    public="${AVR_CLUSTER_PORT:-8080}"
    [[ "$public" =~ ^[0-9]+$ ]] || die "AVR_CLUSTER_PORT 不是数字 / is not a number: $public"
    if ! ceph_port_free "$public"; then
        local taken="$public"
        public="$(ceph_free_port)" || die "找不到空闲端口 / no free port"
        warn "端口 $taken 已被占用，改用 $public / port $taken is in use, using $public"
    fi
    used+=("$public")
    a="$(ceph_free_port "${used[@]}")" && used+=("$a")
    b="$(ceph_free_port "${used[@]}")" && used+=("$b")
    redis="$(ceph_free_port "${used[@]}")" && used+=("$redis")
    mon="$(ceph_free_port "${used[@]}")" && used+=("$mon")
    [ ${#used[@]} -eq 5 ] || die "找不到空闲端口 / no free ports"
    # the S3 gateway's port is chosen by ceph_start ("auto"): it binds it ~15 s after the
    # check, and moves to another if something took it meanwhile; cluster.env gets the port
    # it bound once Ceph is up

    # --- PostgreSQL: a fresh database of this directory's own ---------------------------------
    local admin db db_url
    admin="${AVR_CLUSTER_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
    db="avr_cluster_$(printf '%s' "$dir" | sha256sum | cut -c1-12)"
    _cluster_pg check "$admin" 2>"$dir/logs/setup.log" ||
        die "无法连接 PostgreSQL / cannot connect to PostgreSQL at $admin (AVR_CLUSTER_PG_URL): $(tail -n 1 "$dir/logs/setup.log")"
    db_url="$(_cluster_pg url "$admin" "$db")"

    local url="http://127.0.0.1:$public"
    cat >"$dir/cluster.meta" <<META
URL=$url
PORT=$public
WEBA_PORT=$a
WEBB_PORT=$b
REDIS_PORT=$redis
MON_PORT=$mon
DATABASE=$db
ADMIN_URL=$admin
KEEP=$keep
META

    say "创建数据库 / creating database $db"
    _cluster_pg create "$admin" "$db" 2>>"$dir/logs/setup.log" ||
        die "无法创建数据库 / cannot create database $db: $(tail -n 1 "$dir/logs/setup.log")"

    # --- Redis: private, nothing persisted ------------------------------------------------------
    say "启动 Redis / starting Redis (127.0.0.1:$redis)"
    # not --daemonize: in the foreground as a session leader of its own, like every other process
    (exec setsid redis-server --bind 127.0.0.1 --port "$redis" --save '' --appendonly no \
        --dir "$dir/redis" --protected-mode yes) >>"$dir/logs/redis.log" 2>&1 </dev/null 9>&- &
    _cluster_record "$dir" redis $!

    # --- Ceph, while the database is migrated --------------------------------------------------
    say "启动 Ceph（后台，日志 logs/ceph.log）/ starting Ceph in the background (logs/ceph.log)"
    (AVR_CEPH_RGW_PORT=auto AVR_CEPH_AVOID_PORTS="${used[*]}" AVR_CEPH_MON_PORT="$mon" ceph_start "$dir/ceph") >"$dir/logs/ceph.log" 2>&1 </dev/null 9>&- &
    CLUSTER_CEPH_JOB=$!

    # --- the shared environment ---------------------------------------------------------------
    local secret name value managed passed=()
    secret="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
    local access="${AVR_CEPH_ACCESS_KEY:-avrdev}" secret_s3="${AVR_CEPH_SECRET_KEY:-avrdev-secret}"
    for name in $(grep -o 'Var("[A-Z0-9_]*"' "$AVR_ROOT/config/env.py" | sed 's/Var("//; s/"//'); do
        managed=0
        for value in "${CLUSTER_MANAGED[@]}"; do [ "$name" = "$value" ] && managed=1; done
        [ "$managed" -eq 0 ] && [ -n "${!name+set}" ] && passed+=("$name=${!name}")
    done
    {
        echo "# bin/cluster start: shared by every node of the cluster in $dir"
        echo "DATABASE_URL=$db_url"
        echo "REDIS_URL=redis://127.0.0.1:$redis/0"
        echo "AVR_HUEY_IMMEDIATE=0"
        echo "AVR_VAULT_BACKEND=s3"
        echo "AVR_S3_ACCESS_KEY=$access"
        echo "AVR_S3_SECRET_KEY=$secret_s3"
        echo "AVR_S3_BUCKET=avr-originals"
        echo "AVR_S3_DERIVATIVE_BUCKET=avr-derivatives"
        echo "AVR_S3_CREATE_BUCKETS=1"
        echo "AVR_SECRET_KEY=$secret"
        echo "AVR_ALLOWED_HOSTS=127.0.0.1,localhost"
        echo "AVR_CSRF_TRUSTED_ORIGINS=$url,http://localhost:$public,http://127.0.0.1:$a,http://127.0.0.1:$b"
        echo "AVR_LOG_KEY_FILE=$dir/keys/log-ed25519.key"
        echo "AVR_LOG_SM2_KEY_FILE=$dir/keys/log-sm2.key"
        [ ${#passed[@]} -gt 0 ] && printf '%s\n' "${passed[@]}"
        echo "AVR_CLUSTER_URL=$url"
        echo "AVR_CLUSTER_WEBA_URL=http://127.0.0.1:$a"
        echo "AVR_CLUSTER_WEBB_URL=http://127.0.0.1:$b"
    } >"$dir/cluster.env"
    chmod 600 "$dir/cluster.env"

    # --- database and static files (bin/up's steps) -------------------------------------------
    say "数据库迁移 / migrating the database"
    _cluster_run "$dir" setup "$PY" manage.py migrate --noinput -v 0 >>"$dir/logs/setup.log" 2>&1 ||
        { tail -n 30 "$dir/logs/setup.log" >&2; _cluster_abort "$dir" "数据库迁移失败 / migrate failed"; }
    # --link: symlinks to the sources, not a 100 MB copy per cluster directory
    _cluster_run "$dir" setup "$PY" manage.py collectstatic --noinput --link -v 0 >>"$dir/logs/setup.log" 2>&1 ||
        { tail -n 30 "$dir/logs/setup.log" >&2; _cluster_abort "$dir" "collectstatic 失败 / collectstatic failed"; }

    for _ in $(seq 1 40); do
        redis-cli -h 127.0.0.1 -p "$redis" ping >/dev/null 2>&1 && break
        sleep 0.25
    done
    redis-cli -h 127.0.0.1 -p "$redis" ping >/dev/null 2>&1 ||
        { tail -n 20 "$dir/logs/redis.log" >&2; _cluster_abort "$dir" "Redis 未能启动 / Redis did not start"; }

    if ! wait "$CLUSTER_CEPH_JOB"; then
        CLUSTER_CEPH_JOB=""
        cat "$dir/logs/ceph.log" >&2
        _cluster_abort "$dir" "Ceph 未能启动 / Ceph did not start"
    fi
    CLUSTER_CEPH_JOB=""
    local rgw_endpoint
    rgw_endpoint="$(_cluster_get "$dir/ceph/avr-ceph.env" AVR_S3_ENDPOINT)"
    [[ "$rgw_endpoint" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] ||
        _cluster_abort "$dir" "Ceph 未给出 S3 地址 / Ceph wrote no S3 endpoint ($dir/ceph/avr-ceph.env)"
    echo "AVR_S3_ENDPOINT=$rgw_endpoint" >>"$dir/cluster.env"
    echo "RGW_PORT=${rgw_endpoint##*:}" >>"$dir/cluster.meta"
    grep -h "Ceph 已启动" "$dir/logs/ceph.log" | sed 's/\x1b\[[0-9;]*m//g; s/^==> //' | while IFS= read -r line; do say "$line"; done

    # demo data first (its province becomes the root), then bootstrap: as bin/up does
    if [ "$demo" -eq 1 ]; then
        say "载入演示数据 / loading demo data"
        _cluster_run "$dir" setup "$PY" manage.py seed_demo 2>>"$dir/logs/setup.log" | tee -a "$dir/logs/setup.log" ||
            _cluster_abort "$dir" "演示数据载入失败 / seed_demo failed ($dir/logs/setup.log)"
    fi
    _cluster_run "$dir" setup "$PY" manage.py bootstrap 2>>"$dir/logs/setup.log" | tee -a "$dir/logs/setup.log" ||
        _cluster_abort "$dir" "bootstrap 失败 / bootstrap failed ($dir/logs/setup.log)"

    # --- the nodes ---------------------------------------------------------------------------
    say "启动 Web 节点与后台任务 / starting web nodes webA (:$a), webB (:$b), worker1 (periodic), worker2"
    local node
    for node in "${CLUSTER_NODES[@]}"; do _cluster_spawn_node "$dir" "$node"; done
    _cluster_wait_web "$dir" webA || _cluster_abort "$dir" "webA 未能启动 / webA did not start"
    _cluster_wait_web "$dir" webB || _cluster_abort "$dir" "webB 未能启动 / webB did not start"

    _cluster_nginx_conf "$dir" "$public" "$a" "$b"
    "$nginx_bin" -t -q -c "$dir/nginx/nginx.conf" -p "$dir/nginx/" -e "$dir/logs/nginx-error.log" \
        >>"$dir/logs/nginx.log" 2>&1 ||
        { cat "$dir/logs/nginx.log" >&2; _cluster_abort "$dir" "nginx 配置无效 / invalid nginx configuration"; }
    # nginx stamps its logs with the local time of TZ: the platform's zone, like every other log
    (TZ="$(_cluster_get "$dir/cluster.env" AVR_TIME_ZONE)"; export TZ="${TZ:-Asia/Shanghai}"
        exec setsid "$nginx_bin" -c "$dir/nginx/nginx.conf" -p "$dir/nginx/" -e "$dir/logs/nginx-error.log" \
        -g "daemon off;") >>"$dir/logs/nginx.log" 2>&1 </dev/null 9>&- &
    _cluster_record "$dir" nginx $!
    _cluster_wait_nginx "$dir" "$url" || _cluster_abort "$dir" "nginx 未能启动 / nginx did not start"
    _cluster_wait_worker "$dir" worker1 || _cluster_abort "$dir" "worker1 未能启动 / worker1 did not start"
    _cluster_wait_worker "$dir" worker2 || _cluster_abort "$dir" "worker2 未能启动 / worker2 did not start"

    trap - INT TERM
    local took demo_text=""
    took="$(_cluster_elapsed "$t0")"
    if [ "$demo" -eq 1 ]; then
        demo_text="  演示数据已载入：演示账号及其共用的演示密码见上方列表（仅供演示）。
  The demo data is loaded: the demo accounts and their shared password
  are listed above (for demonstration only).
"
    fi
    cat <<BANNER

======================================================================
  本机规模化集群已启动 / the local scale-out cluster is running ($took s)

  地址 / URL:        $url/   (nginx → webA, webB)
  webA:              http://127.0.0.1:$a/   pid $(_cluster_pid "$dir" webA)
  webB:              http://127.0.0.1:$b/   pid $(_cluster_pid "$dir" webB)
  worker1 (定时任务 / periodic):  pid $(_cluster_pid "$dir" worker1)
  worker2 (--no-periodic):       pid $(_cluster_pid "$dir" worker2)
  nginx pid $(_cluster_pid "$dir" nginx), Redis 127.0.0.1:$redis pid $(_cluster_pid "$dir" redis)
  PostgreSQL:        $db_url
  S3 (Ceph RGW):     $rgw_endpoint
  目录 / directory:  $dir  (logs/ 日志, cluster.env 环境变量)

  上方打印了管理员账号及一次性密码（登录后须修改）/ the administrator's
  one-time password is printed above (to be changed at first login).
$demo_text
  停止 / stop:       bin/cluster stop $dir
======================================================================

BANNER
}

# _cluster_abort DIR MESSAGE: stop what started, keep the logs, exit non-zero.
_cluster_abort() {
    trap - INT TERM
    # to the terminal even when the signal came during a command whose output goes to a log
    exec 2>&9
    warn "$2"
    warn "日志 / logs: $1/logs"
    if [ -n "${CLUSTER_CEPH_JOB:-}" ]; then
        # a Ceph still starting would come up after we stopped it: let it finish first
        wait "$CLUSTER_CEPH_JOB" 2>/dev/null || true
        CLUSTER_CEPH_JOB=""
    fi
    cluster_stop "$1" >/dev/null 2>&1 || true
    die "集群未能启动 / the cluster did not start"
}

# cluster_stop DIR [DROP]: stop everything, wait for it, drop the database (unless started with
# --keep and DROP is not 1).
cluster_stop() {
    local dir status=0 said=0 drop="${2:-0}"
    dir="$(_cluster_dir "$1")"
    if [ ! -f "$dir/.avr-cluster" ]; then
        say "$dir 中没有集群 / no cluster in $dir"
        return 0
    fi
    if _cluster_any_alive "$dir"; then
        say "停止集群 / stopping the cluster in $dir"
        said=1
    fi
    # the edge first, then web nodes (gunicorn: graceful_timeout 10 s) and workers (SIGINT: Huey's
    # graceful stop, as systemd's KillSignal), then Redis and Ceph
    _cluster_stop_names "$dir" 20 nginx:TERM webA:TERM webB:TERM worker1:INT worker2:INT || status=1
    _cluster_stop_names "$dir" 10 redis:TERM || status=1
    if ceph_running "$dir/ceph"; then
        ceph_stop "$dir/ceph" >>"$dir/logs/ceph.log" 2>&1 || { warn "Ceph 未能停止 / Ceph did not stop"; status=1; }
    fi
    local db admin keep
    db="$(_cluster_get "$dir/cluster.meta" DATABASE)"
    admin="$(_cluster_get "$dir/cluster.meta" ADMIN_URL)"
    keep="$(_cluster_get "$dir/cluster.meta" KEEP)"
    if [ -n "$db" ] && [ -n "$admin" ] && { [ "$keep" != "1" ] || [ "$drop" = "1" ]; }; then
        if _cluster_pg exists "$admin" "$db" 2>/dev/null; then
            _cluster_pg drop "$admin" "$db" 2>>"$dir/logs/setup.log" ||
                { warn "无法删除数据库 / could not drop database $db"; status=1; }
            say "已删除数据库 / dropped database $db"
        fi
    elif [ "$keep" = "1" ] && [ -n "$db" ]; then
        say "保留数据库 / keeping database $db (--keep)"
    fi
    [ "$status" -eq 0 ] && [ "$said" -eq 1 ] && say "集群已停止 / the cluster is stopped"
    [ "$status" -eq 0 ] && [ "$said" -eq 0 ] && say "$dir 中的集群未在运行 / the cluster in $dir is not running"
    return "$status"
}

cluster_status() {
    local dir name pid ok=0 url port
    dir="$(_cluster_dir "$1")"
    if [ ! -f "$dir/cluster.meta" ]; then
        echo "$dir: 没有集群 / no cluster here"
        return 1
    fi
    url="$(_cluster_get "$dir/cluster.meta" URL)"
    echo "集群 / cluster: $dir"
    for name in nginx "${CLUSTER_NODES[@]}" redis; do
        pid="$(_cluster_pid "$dir" "$name")"
        case "$name" in
            webA|webB) port=" 127.0.0.1:$(_cluster_get "$dir/cluster.meta" "${name^^}_PORT")" ;;
            nginx) port=" $url" ;;
            redis) port=" 127.0.0.1:$(_cluster_get "$dir/cluster.meta" REDIS_PORT)" ;;
            *) port="" ;;
        esac
        if [ -n "$pid" ] && _ceph_alive "$pid"; then
            echo "$name:$port 运行中 / running (pid $pid)"
        else
            echo "$name:$port 未运行 / not running"
            ok=1
        fi
    done
    if ceph_running "$dir/ceph"; then
        echo "ceph: $(_cluster_get "$dir/cluster.env" AVR_S3_ENDPOINT) 运行中 / running"
    else
        echo "ceph: 未运行 / not running"
        ok=1
    fi
    echo "数据库 / database: $(_cluster_get "$dir/cluster.meta" DATABASE)"
    if [ "$(_cluster_http_code GET "$url/login/")" = "200" ]; then
        echo "$url/login/: 有响应 / answers"
    else
        echo "$url/login/: 无响应 / does not answer"
        ok=1
    fi
    return "$ok"
}

# cluster_env DIR: export lines (eval "$(bin/cluster env DIR)"): the shared environment, with
# AVR_VAR_DIR = DIR/setup, for manage.py commands against the cluster.
cluster_env() {
    local dir
    dir="$(_cluster_dir "$1")"
    [ -f "$dir/cluster.env" ] || return 1
    print_exports "$dir/cluster.env"
    printf 'export %s=%q\n' AVR_VAR_DIR "$dir/setup"
}

_cluster_check_node() {
    local node
    for node in "${CLUSTER_NODES[@]}"; do [ "$1" = "$node" ] && return 0; done
    die "未知节点 / unknown node: $1 (${CLUSTER_NODES[*]})"
}

# cluster_kill NODE DIR: SIGKILL the node's whole process group (a crash, not a shutdown).
cluster_kill() {
    local node="$1" dir pid
    dir="$(_cluster_dir "$2")"
    _cluster_check_node "$node"
    pid="$(_cluster_pid "$dir" "$node")"
    if [ -z "$pid" ] || ! _cluster_group_alive "$pid"; then
        say "$node 未在运行 / $node is not running"
        return 0
    fi
    kill -KILL -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        _cluster_group_alive "$pid" || break
        sleep 0.05
    done
    _cluster_group_alive "$pid" && die "$node 未能结束 / $node did not die"
    say "已强制结束 / killed $node (SIGKILL, pid $pid)"
}

# cluster_restart_node NODE DIR: stop the node if it runs (gracefully), start it again.
cluster_restart_node() {
    local node="$1" dir
    dir="$(_cluster_dir "$2")"
    _cluster_check_node "$node"
    [ -f "$dir/cluster.env" ] || die "$dir 中没有集群 / no cluster in $dir"
    case "$node" in
        webA|webB) _cluster_stop_names "$dir" 15 "$node:TERM" ;;
        *) _cluster_stop_names "$dir" 20 "$node:INT" ;;
    esac
    local from
    from="$(_cluster_log_size "$dir/logs/$node.log")"
    _cluster_spawn_node "$dir" "$node"
    _cluster_wait_node "$dir" "$node" "$from" || die "$node 未能启动 / $node did not start"
    say "$node 已启动 / $node is running (pid $(_cluster_pid "$dir" "$node"))"
}
