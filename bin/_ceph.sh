# Single-node Ceph for the S3 vault (sourced by bin/ceph and bin/test, after _setup.sh).
#
# One monitor, one OSD and one radosgw (the S3 gateway), all on 127.0.0.1, cephx off,
# everything (config, data, logs, admin sockets, pid files) under one directory, so several
# clusters can run side by side as long as their monitor and gateway ports differ (the OSD
# picks free ports in 6800-7300 itself; there is no manager daemon and no other listener).
#
# Settings (environment):
#   AVR_CEPH_RGW_PORT        S3 gateway port (default 7480), or "auto": a free port chosen here,
#                            and another one if something takes it before the gateway binds it
#                            (the gateway starts seconds after the check); DIR/avr-ceph.env
#                            names the port it got
#   AVR_CEPH_AVOID_PORTS     with "auto": ports (space-separated) not to choose, e.g. ones the
#                            caller has chosen for other daemons but not bound yet
#   AVR_CEPH_MON_PORT        monitor port (default 3300)
#   AVR_CEPH_ACCESS_KEY      S3 access key of the user created at start (default avrdev)
#   AVR_CEPH_SECRET_KEY      its secret (default avrdev-secret)
#   AVR_CEPH_OBJECTSTORE     memstore (default: in RAM, gone when the OSD stops) or bluestore
#                            (a sparse file DIR/osd.0/block; also wiped by the next start)
#   AVR_CEPH_MEMSTORE_BYTES  memstore capacity (default 4294967296 = 4 GiB, taken from RAM as used)
#   AVR_CEPH_BLUESTORE_BYTES bluestore block file size (default 10737418240 = 10 GiB, sparse)
#
# Functions: ceph_install, ceph_start DIR, ceph_stop DIR, ceph_running DIR, ceph_status DIR,
# ceph_env DIR, ceph_port_free PORT, ceph_free_port [EXCLUDED_PORT...].
# ceph_start and ceph_stop return non-zero with a message instead of exiting, so that bin/test
# can count a cluster that did not start as a failure and carry on to its report.

CEPH_PACKAGES=(ceph-mon ceph-osd ceph-common radosgw curl)

ceph_install() {
    apt_ensure "${CEPH_PACKAGES[@]}"
}

# ceph_port_free PORT: nothing listens on 127.0.0.1:PORT.
ceph_port_free() {
    ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# ceph_free_port [EXCLUDED...]: a port nobody listens on, below Linux's ephemeral range
# (32768+) so that no outgoing connection takes it before the daemon binds it.
ceph_free_port() {
    local port excluded ok
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000))
        ok=1
        for excluded in "$@"; do [ "$port" = "$excluded" ] && ok=0; done
        if [ "$ok" -eq 1 ] && ceph_port_free "$port"; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

_ceph_dir() { realpath -m -- "${1:?cluster directory}"; }

# A live (not zombie) process.
_ceph_alive() {
    local state=""
    [ -r "/proc/$1/stat" ] || return 1
    state="$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$state" ] && [ "$state" != "Z" ]
}

# The processes of the cluster in DIR: every process with DIR/ceph.conf as one of its
# arguments (the daemons, and any ceph / radosgw-admin client still hanging on it). An exact
# argument match, so another cluster's processes (another directory) are never included.
_ceph_pids() {
    local conf proc pid args arg
    conf="$(_ceph_dir "$1")/ceph.conf"
    for proc in /proc/[0-9]*; do
        pid="${proc#/proc/}"
        [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
        args=()
        mapfile -d "" args 2>/dev/null <"$proc/cmdline" || continue
        for arg in "${args[@]}"; do
            if [ "$arg" = "$conf" ]; then
                echo "$pid"
                break
            fi
        done
    done
}

ceph_running() {
    [ -n "$(_ceph_pids "$1")" ]
}

# _ceph_cli DIR ARGS...: the ceph CLI on the cluster in DIR, never hanging for long.
_ceph_cli() {
    local dir="$1"
    shift
    timeout 60 ceph -c "$dir/ceph.conf" --connect-timeout 30 "$@"
}

# _ceph_fail DIR MESSAGE [LOG]: say what went wrong (with the log's tail), stop what started.
_ceph_fail() {
    warn "$2"
    if [ -n "${3:-}" ] && [ -s "$3" ]; then
        warn "$3 (最后 20 行 / last 20 lines):"
        tail -n 20 "$3" >&2
    fi
    ceph_stop "$1" >/dev/null 2>&1 || true
}

# _ceph_daemon_alive DIR PROGRAM: a PROGRAM process (ceph-mon, ceph-osd, radosgw) of DIR runs.
_ceph_daemon_alive() {
    local pid args
    for pid in $(_ceph_pids "$1"); do
        args=()
        mapfile -d "" args 2>/dev/null <"/proc/$pid/cmdline" || continue
        [ "${args[0]##*/}" = "$2" ] && _ceph_alive "$pid" && return 0
    done
    return 1
}

# _ceph_wait DIR PROGRAM TRIES COMMAND...: run COMMAND (every 0.5 s) until it succeeds; give up
# early when PROGRAM's daemon has exited (twice seen gone: it may be between forks).
_ceph_wait() {
    local dir="$1" program="$2" tries="$3" gone=0
    shift 3
    for _ in $(seq 1 "$tries"); do
        "$@" >/dev/null 2>&1 && return 0
        if _ceph_daemon_alive "$dir" "$program"; then
            gone=0
        else
            gone=$((gone + 1))
            [ "$gone" -ge 2 ] && return 1
        fi
        sleep 0.5
    done
    return 1
}

_ceph_osd_up() {
    local out
    out="$(_ceph_cli "$1" osd stat 2>/dev/null)" && [[ "$out" == *" 1 up"* ]]
}
_ceph_s3_answers() { curl -s -o /dev/null --max-time 5 "$1"; }

# ceph_start DIR: a fresh cluster in DIR (its previous contents are deleted), settings above.
# Writes DIR/avr-ceph.env (the platform's and the tests' S3 variables) for ceph_env.
ceph_start() {
    local dir rgw_port mon_port access secret store mem_bytes bs_bytes conf fsid osd t0 endpoint
    dir="$(_ceph_dir "$1")"
    rgw_port="${AVR_CEPH_RGW_PORT:-7480}"
    mon_port="${AVR_CEPH_MON_PORT:-3300}"
    local rgw_auto=0
    if [ "$rgw_port" = "auto" ]; then
        rgw_auto=1
        rgw_port="$(ceph_free_port "$mon_port" ${AVR_CEPH_AVOID_PORTS:-})" || { warn "找不到空闲端口 / no free port for the S3 gateway"; return 1; }
    fi
    access="${AVR_CEPH_ACCESS_KEY:-avrdev}"
    secret="${AVR_CEPH_SECRET_KEY:-avrdev-secret}"
    store="${AVR_CEPH_OBJECTSTORE:-memstore}"
    mem_bytes="${AVR_CEPH_MEMSTORE_BYTES:-4294967296}"
    bs_bytes="${AVR_CEPH_BLUESTORE_BYTES:-10737418240}"
    conf="$dir/ceph.conf"
    endpoint="http://127.0.0.1:$rgw_port"
    t0="$EPOCHREALTIME"

    local value
    for value in "$rgw_port" "$mon_port" "$mem_bytes" "$bs_bytes"; do
        [[ "$value" =~ ^[0-9]+$ ]] || { warn "不是数字 / not a number: $value (AVR_CEPH_*)"; return 1; }
    done
    case "$store" in
        memstore|bluestore) ;;
        *) warn "AVR_CEPH_OBJECTSTORE 须为 memstore 或 bluestore / must be memstore or bluestore: $store"; return 1 ;;
    esac
    [[ "$access$secret" =~ ^[A-Za-z0-9._-]+$ ]] || { warn "S3 密钥只能含字母、数字和 ._- / S3 keys may only hold letters, digits and ._-"; return 1; }
    [ "$rgw_port" != "$mon_port" ] || { warn "监视器与网关端口相同 / monitor and gateway ports are the same: $mon_port"; return 1; }
    for value in ceph-authtool monmaptool ceph-mon ceph-osd ceph radosgw radosgw-admin curl; do
        command -v "$value" >/dev/null 2>&1 || { warn "找不到 $value（Ceph 未安装？）/ $value not found (Ceph not installed?)"; return 1; }
    done
    if ceph_running "$dir"; then
        warn "$dir 中的 Ceph 已在运行 / a Ceph cluster is already running in $dir"
        return 1
    fi
    if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$conf" ]; then
        warn "$dir 非空且不是 Ceph 目录，不删除 / $dir is not empty and holds no ceph.conf: not wiping it"
        return 1
    fi
    ceph_port_free "$mon_port" || { warn "端口 $mon_port 已被占用（设 AVR_CEPH_MON_PORT）/ monitor port $mon_port is in use (set AVR_CEPH_MON_PORT)"; return 1; }
    ceph_port_free "$rgw_port" || { warn "端口 $rgw_port 已被占用（设 AVR_CEPH_RGW_PORT）/ S3 gateway port $rgw_port is in use (set AVR_CEPH_RGW_PORT)"; return 1; }

    say "启动 Ceph / starting Ceph ($store, monitor 127.0.0.1:$mon_port, S3 $endpoint, $dir)"
    rm -rf "$dir"
    mkdir -p "$dir"/{mon.a,osd.0,rgw,asok,log} || { warn "无法创建 / cannot create $dir"; return 1; }
    fsid="$(cat /proc/sys/kernel/random/uuid)"
    cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd crush chooseleaf type = 0
run dir = $dir
admin socket = $dir/asok/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/\$name.pid
keyring = $dir/keyring
ms bind ipv6 = false
ms mon client mode = crc secure
[mon]
mon data = $dir/mon.\$id
# one monitor: commit map changes at once instead of batching them for 1 s (each pool the
# gateway creates at its first start is a map change: this takes the start from ~15 s to a few)
paxos propose interval = 0.05
paxos min wait = 0.01
mon cluster log file = $dir/log/cluster.log
[osd]
osd data = $dir/osd.\$id
osd objectstore = $store
memstore device bytes = $mem_bytes
bluestore block create = true
bluestore block size = $bs_bytes
bluestore fsck on mkfs = false
bluestore cache autotune = false
bluestore cache size = 268435456
osd memory target = 939524096
osd max object size = 134217728
osd class load list = *
osd class default list = *
[client.rgw.a]
# tcp_nodelay: without it every GET and LIST waits ~40 ms (Nagle against delayed ACK)
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $dir/rgw
rgw dns name = localhost
rgw thread pool size = 64
CONF

    local log="$dir/log/setup.log"
    {
        ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' &&
        ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' &&
        monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" &&
        ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
    } >>"$log" 2>&1 || { _ceph_fail "$dir" "Ceph 监视器初始化失败 / monitor mkfs failed" "$log"; return 1; }
    ceph-mon -c "$conf" -i a >>"$log" 2>&1 ||
        { _ceph_fail "$dir" "ceph-mon 未能启动 / ceph-mon did not start" "$dir/log/mon.a.log"; return 1; }
    _ceph_wait "$dir" ceph-mon 60 _ceph_cli "$dir" mon stat ||
        { _ceph_fail "$dir" "Ceph 监视器无响应 / the monitor does not answer" "$dir/log/mon.a.log"; return 1; }

    osd="$(_ceph_cli "$dir" osd create 2>>"$log")" && [[ "$osd" =~ ^[0-9]+$ ]] ||
        { _ceph_fail "$dir" "无法创建 OSD / ceph osd create failed" "$log"; return 1; }
    ceph-osd -c "$conf" -i "$osd" --mkfs --osd-uuid "$(cat /proc/sys/kernel/random/uuid)" >>"$log" 2>&1 ||
        { _ceph_fail "$dir" "OSD 初始化失败 / OSD mkfs failed" "$dir/log/osd.$osd.log"; return 1; }
    ceph-osd -c "$conf" -i "$osd" >>"$log" 2>&1 ||
        { _ceph_fail "$dir" "ceph-osd 未能启动 / ceph-osd did not start" "$dir/log/osd.$osd.log"; return 1; }
    {
        _ceph_cli "$dir" osd crush add-bucket localhost host
        _ceph_cli "$dir" osd crush move localhost root=default
        _ceph_cli "$dir" osd crush add "osd.$osd" 1.0 host=localhost
    } >>"$log" 2>&1 || true
    _ceph_wait "$dir" ceph-osd 120 _ceph_osd_up "$dir" ||
        { _ceph_fail "$dir" "OSD 未上线 / the OSD did not come up" "$dir/log/osd.$osd.log"; return 1; }

    local rgw_log="$dir/log/client.rgw.a.log" attempt
    for attempt in 1 2 3; do
        radosgw -c "$conf" -n client.rgw.a >>"$log" 2>&1 ||
            { _ceph_fail "$dir" "radosgw 未能启动 / radosgw did not start" "$rgw_log"; return 1; }
        _ceph_wait "$dir" radosgw 240 _ceph_s3_answers "$endpoint/" && break
        # taken since it was checked free: with "auto", move to another port (the gateway has
        # exited; nothing else of the cluster knows its port yet)
        if [ "$rgw_auto" -eq 1 ] && [ "$attempt" -lt 3 ] && ! _ceph_daemon_alive "$dir" radosgw &&
            grep -q "failed to bind address 127.0.0.1:$rgw_port" "$rgw_log" 2>/dev/null; then
            local taken="$rgw_port"
            rgw_port="$(ceph_free_port "$mon_port" "$taken" ${AVR_CEPH_AVOID_PORTS:-})" || { _ceph_fail "$dir" "找不到空闲端口 / no free port for the S3 gateway"; return 1; }
            endpoint="http://127.0.0.1:$rgw_port"
            warn "端口 $taken 已被占用，S3 网关改用 $rgw_port / port $taken was taken, the S3 gateway moves to $rgw_port"
            sed -i "s|^rgw frontends = beast endpoint=127.0.0.1:$taken |rgw frontends = beast endpoint=127.0.0.1:$rgw_port |" "$conf"
            mv "$rgw_log" "$rgw_log.$taken"
            continue
        fi
        _ceph_fail "$dir" "S3 网关无响应 / the S3 gateway at $endpoint does not answer" "$rgw_log"
        return 1
    done
    timeout 60 radosgw-admin -c "$conf" user create --uid=avr --display-name="AVR platform" \
        --access-key="$access" --secret="$secret" >>"$log" 2>&1 ||
        { _ceph_fail "$dir" "无法创建 S3 用户 / radosgw-admin user create failed" "$log"; return 1; }

    cat >"$dir/avr-ceph.env" <<ENV
AVR_VAULT_BACKEND=s3
AVR_S3_ENDPOINT=$endpoint
AVR_S3_ACCESS_KEY=$access
AVR_S3_SECRET_KEY=$secret
AVR_TEST_S3_ENDPOINT=$endpoint
AVR_TEST_S3_ACCESS_KEY=$access
AVR_TEST_S3_SECRET_KEY=$secret
AVR_TEST_CEPH_CONF=$conf
ENV
    say "Ceph 已启动，用时 $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $t0 }") 秒 / Ceph up in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $t0 }") s: S3 $endpoint"
}

# _ceph_terminate GRACE PID...: SIGTERM, GRACE seconds to exit, then SIGKILL (with a warning
# when GRACE is 20 or more); non-zero if any survived even that.
_ceph_terminate() {
    local grace="$1" pid left=""
    shift
    [ $# -eq 0 ] && return 0
    kill -TERM "$@" 2>/dev/null || true
    for _ in $(seq 1 $((grace * 10))); do
        left=""
        for pid in "$@"; do _ceph_alive "$pid" && left="$left $pid"; done
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    [ "$grace" -lt 20 ] ||
        warn "Ceph 进程 $grace 秒内未退出，强制结束 / Ceph processes still running after $grace s, killing:$left"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    for _ in $(seq 1 50); do
        left=""
        for pid in "$@"; do _ceph_alive "$pid" && left="$left $pid"; done
        [ -z "$left" ] && return 0
        sleep 0.2
    done
    warn "无法结束 Ceph 进程 / could not stop Ceph processes:$left"
    return 1
}

# ceph_stop DIR: stop the cluster's processes and wait until they have exited. In order,
# gateway, OSD, monitor: each says goodbye to the next (radosgw to the OSD, the OSD to the
# monitor) and waits for it on shutdown when it is already gone (5 s and more). radosgw takes
# ~5 s to finish even so (its background threads sleep): it gets 1 s, then SIGKILL — it keeps
# nothing of its own, everything it stored is in the OSD already.
ceph_stop() {
    local dir pid args program grace status=0 said=0
    dir="$(_ceph_dir "$1")"
    for program in radosgw ceph-osd ""; do
        grace=20
        [ "$program" = "radosgw" ] && grace=1
        local pids=()
        for pid in $(_ceph_pids "$dir"); do
            args=()
            mapfile -d "" args 2>/dev/null <"/proc/$pid/cmdline" || continue
            [ -z "$program" ] || [ "${args[0]##*/}" = "$program" ] && pids+=("$pid")
        done
        [ ${#pids[@]} -eq 0 ] && continue
        [ "$said" -eq 1 ] || say "停止 Ceph / stopping Ceph ($dir)"
        said=1
        _ceph_terminate "$grace" "${pids[@]}" || status=1
    done
    [ "$said" -eq 1 ] && rm -f "$dir"/*.pid
    return "$status"
}

# ceph_env DIR: export lines for the cluster in DIR (eval "$(bin/ceph env)").
ceph_env() {
    local dir
    dir="$(_ceph_dir "$1")"
    [ -f "$dir/avr-ceph.env" ] || return 1
    print_exports "$dir/avr-ceph.env"
}

# ceph_status DIR: the daemons and the S3 gateway; non-zero unless everything is up.
ceph_status() {
    local dir ok=0 name pid endpoint
    dir="$(_ceph_dir "$1")"
    if [ ! -f "$dir/ceph.conf" ]; then
        echo "$dir: 没有 Ceph 集群 / no Ceph cluster here"
        return 1
    fi
    for name in mon.a osd.0 client.rgw.a; do
        pid="$(cat "$dir/$name.pid" 2>/dev/null || true)"
        if [ -n "$pid" ] && _ceph_alive "$pid"; then
            echo "$name: 运行中 / running (pid $pid)"
        else
            echo "$name: 未运行 / not running"
            ok=1
        fi
    done
    endpoint="$(sed -n 's/^AVR_S3_ENDPOINT=//p' "$dir/avr-ceph.env" 2>/dev/null || true)"
    if [ -n "$endpoint" ] && _ceph_s3_answers "$endpoint/"; then
        echo "S3: $endpoint 有响应 / answers"
    else
        echo "S3: ${endpoint:-?} 无响应 / does not answer"
        ok=1
    fi
    if [ "$ok" -eq 0 ]; then
        _ceph_cli "$dir" -s 2>/dev/null | sed -n '/services:/,$p' || true
    fi
    return "$ok"
}
