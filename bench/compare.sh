#!/usr/bin/env bash
# bench/compare.sh - russet vs redis-server on this machine: throughput (redis-benchmark,
# interleaved A/B rounds, paired ratios) and memory per element (data sets loaded with redis-cli --pipe).
#
# usage: cargo build --release && bench/compare.sh          (bench/compare.sh -h: this help)
#
# Both servers run pinned to SERVER_CPU with persistence off, redis-benchmark runs on CLIENT_CPU.
# Throughput: ROUNDS rounds; each round, per pipeline depth: FLUSHALL both servers, then every test
# of TESTS on each server in turn (order A B, then B A, ...). Table: median rps per server, the median
# of the per-round russet/redis ratios, and a geometric mean of the ratios per pipeline depth.
# Memory: per data set of MEM_SETS, a fresh server of each kind; used_memory (INFO memory) and VmRSS
# before and after loading it; total and bytes per element (baseline subtracted). Data sets:
#   strings  NKEYS keys key:<i> with 16..64-byte values (per key)
#   hashes   10,000 hashes of 100 fields f<j>, 4..16-byte values (per field; listpack encoding)
#   zsets    10,000 sorted sets of 100 members member:<j>, 2-decimal scores (per member; listpack)
#
# Environment knobs [defaults]:
#   RUSSET_BIN [<repo>/target/release/russet-server]   REDIS_BIN [redis-server]
#   RB [redis-benchmark]  CLI [redis-cli]
#   TESTS ["SET GET INCR MSET"]  whitespace-separated, run in this order within each block:
#       NAME              a redis-benchmark -t test (SET GET INCR MSET LPUSH RPUSH LPOP RPOP SADD SPOP
#                         HSET ZADD ZPOPMIN LRANGE_100 ... ; PING = ping_mbulk); MSET rps counts
#                         10-key MSET commands; also SETBIT, BITCOUNT (128-byte bitmaps at
#                         bitmap:__rand_int__), SETBIT_1MB, BITCOUNT_1MB (one 1 MB bitmap),
#                         XADD (one stream capped with MAXLEN ~ 10000), XRANGE (its first 10 entries)
#       NAME='cmd args'   a custom command line, e.g. ZRANGE='zrange myzset 0 9'; __rand_int__ is
#                         replaced by a random number below KEYSPACE. Data comes only from earlier
#                         tests of the block: put ZADD (fills myzset) before ZRANGE, LPUSH before RPOP.
#                         HyperLogLog: PFADD='pfadd hll1 e:__rand_int__' PFMERGE='pfmerge hll2 hll1'
#                         PFCOUNT='pfcount hll1 hll2 hll3' (union of 3 keys, two dense, one missing)
#   ROUNDS [3]  PIPELINES ["1 16"]  CLIENTS [50]  KEYSPACE [100000]  DSIZE [64]
#   SCALE [1]             multiplies every request count (see n_for: ~1.5 s per sample against redis)
#   SAMPLE_TIMEOUT [120]  seconds before one redis-benchmark run is abandoned (reported as ERR)
#   NKEYS [1000000]       keys for the strings memory figure
#   MEM_SETS ["strings hashes zsets"]  memory data sets to load
#   MEM_ONLY=1 / THROUGHPUT_ONLY=1   run only one phase
#   SERVER_CPU [1]  CLIENT_CPU [0]   taskset CPU lists
#   RUSSET_EXT [~/.cache/russet-ext]: data cache in $RUSSET_EXT/bench, results in $RUSSET_EXT/bench/results/
set -u -o pipefail
export LC_ALL=C
if [[ "${1:-}" == -h* || "${1:-}" == --h* ]]; then sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0; fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUSSET_BIN=${RUSSET_BIN:-$ROOT/target/release/russet-server}
REDIS_BIN=${REDIS_BIN:-redis-server}
RB=${RB:-redis-benchmark}; CLI=${CLI:-redis-cli}
TESTS=${TESTS:-"SET GET INCR MSET"}
ROUNDS=${ROUNDS:-3}; PIPELINES=${PIPELINES:-"1 16"}; CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}; DSIZE=${DSIZE:-64}; SCALE=${SCALE:-1}; SAMPLE_TIMEOUT=${SAMPLE_TIMEOUT:-120}
NKEYS=${NKEYS:-1000000}; MEM_SETS=${MEM_SETS:-"strings hashes zsets"}; MEM_ONLY=${MEM_ONLY:-0}; THROUGHPUT_ONLY=${THROUGHPUT_ONLY:-0}
SERVER_CPU=${SERVER_CPU-1}; CLIENT_CPU=${CLIENT_CPU-0}
CACHE=${RUSSET_EXT:-$HOME/.cache/russet-ext}/bench
OUT=$CACHE/results/$(date +%Y%m%d-%H%M%S)-$$
NAMES=(redis russet); BINS=("$REDIS_BIN" "$RUSSET_BIN")

die() { echo "compare.sh: $*" >&2; exit 1; }
for c in "$RB" "$CLI" python3 taskset timeout; do command -v "$c" >/dev/null || die "$c not found"; done
for b in "${BINS[@]}"; do command -v "$b" >/dev/null || die "server binary not found: $b (cargo build --release? RUSSET_BIN/REDIS_BIN)"; done
if [ "$(nproc)" -lt 2 ]; then echo "compare.sh: WARNING: fewer than 2 CPUs, not pinning" >&2; SERVER_CPU=""; CLIENT_CPU=""; fi
SPIN=(); CPIN=()
[ -n "$SERVER_CPU" ] && SPIN=(taskset -c "$SERVER_CPU")
[ -n "$CLIENT_CPU" ] && CPIN=(taskset -c "$CLIENT_CPU")
mkdir -p "$OUT" || exit 1

# ---- tests: NAME or NAME=command line  ->  TNAME[i], TCMD[i] ("" = builtin -t test) ----
# Named tests redis-benchmark has no -t for. __rand_int__ is zero-padded, which Redis refuses as
# a bit offset, so the random part is the key: KEYSPACE bitmaps of 128 bytes.
custom_cmd() { # NAME -> its command line, "" for a redis-benchmark -t test
  case $1 in
    SETBIT) echo "setbit bitmap:__rand_int__ 1023 1" ;; BITCOUNT) echo "bitcount bitmap:__rand_int__" ;;
    SETBIT_1MB) echo "setbit bitmap 8388607 1" ;; BITCOUNT_1MB) echo "bitcount bitmap" ;;
    XADD) echo "xadd stream maxlen ~ 10000 * field __rand_int__" ;; XRANGE) echo "xrange stream - + count 10" ;;
  esac
}
mapfile -t _T < <(python3 -c 'import shlex,sys; [print(x) for x in shlex.split(sys.argv[1])]' "$TESTS") || die "cannot parse TESTS"
TNAME=(); TCMD=()
for e in "${_T[@]}"; do
  n=${e%%=*}; [[ "$n" =~ ^[A-Za-z0-9_]+$ ]] || die "bad TESTS entry: $e"
  TNAME+=("$n"); if [[ "$e" == *=* ]]; then TCMD+=("${e#*=}"); else TCMD+=("$(custom_cmd "$n")"); fi
done
# requests per sample at SCALE=1: about 1.5 s each against redis 7.0 on a 2-core box.
# P1 is bounded by the client (~165k rps); P16 figures from redis' own rates. Extend with new tests.
n_for() { # NAME P
  local n
  if [ "$2" -le 1 ]; then
    case $1 in MSET|LRANGE*) n=150000 ;; PFMERGE|PFCOUNT) n=100000 ;; BITCOUNT_1MB) n=3000 ;; *) n=250000 ;; esac
  else
    case $1 in
      PING*) n=3000000 ;; SET|HSET) n=1500000 ;; GET|INCR|SADD|SPOP) n=1800000 ;;
      LPUSH|RPUSH|LPOP|RPOP) n=2400000 ;; ZADD|ZPOPMIN) n=800000 ;; MSET) n=250000 ;;
      LRANGE*) n=300000 ;; PFMERGE) n=150000 ;; PFCOUNT) n=100000 ;;
      SETBIT*|BITCOUNT) n=1800000 ;; BITCOUNT_1MB) n=3000 ;; *) n=1000000 ;;
    esac
  fi
  awk -v n="$n" -v s="$SCALE" 'BEGIN{printf "%d", n*s}'
}
tname() { case $1 in PING) echo ping_mbulk ;; *) echo "$1" | tr A-Z a-z ;; esac; }

# ---- servers ----
ALL_PIDS=()
cleanup() { local p; for p in "${ALL_PIDS[@]}"; do stop_server "$p"; done; }
trap cleanup EXIT; trap 'exit 130' INT TERM
free_ports() { python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]; print(*[x.getsockname()[1] for x in s])'; }
SPID=""
start_server() { # idx port -> SPID
  local i=$1 port=$2 log=$OUT/${NAMES[$1]}-$2.log k
  (cd "$OUT" && exec "${SPIN[@]}" "${BINS[$i]}" --port "$port" --bind 127.0.0.1 --save '' --appendonly no) >"$log" 2>&1 &
  SPID=$!; ALL_PIDS+=("$SPID")
  for k in $(seq 1 100); do
    [ "$("$CLI" -p "$port" PING 2>/dev/null)" = PONG ] && break
    kill -0 "$SPID" 2>/dev/null || { tail -5 "$log" >&2; die "${NAMES[$i]} (${BINS[$i]}) exited at start, log: $log"; }
    sleep 0.1
  done
  [ "$("$CLI" -p "$port" PING 2>/dev/null)" = PONG ] || die "${NAMES[$i]} does not answer PING on port $port, log: $log"
  [ -n "$SERVER_CPU" ] && { taskset -apc "$SERVER_CPU" "$SPID" >/dev/null || die "taskset -apc failed"; }
}
stop_server() { # pid
  local p=$1 k; kill -0 "$p" 2>/dev/null || return 0
  kill "$p" 2>/dev/null
  for k in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; return 0
}
ident() { "$CLI" -p "$1" INFO server 2>/dev/null | tr -d '\r' | grep -E '^(redis_version|server_name|russet_version|version):' | tr '\n' ' '; }

{ echo "# compare.sh $(date -u +%FT%TZ) $(hostname) cpus=$(nproc) server_cpu=${SERVER_CPU:-any} client_cpu=${CLIENT_CPU:-any}"
  echo "# redis=$REDIS_BIN russet=$RUSSET_BIN; $($RB --version | head -1)"
  echo "# tests=$TESTS rounds=$ROUNDS pipelines=$PIPELINES clients=$CLIENTS keyspace=$KEYSPACE dsize=$DSIZE scale=$SCALE nkeys=$NKEYS"
} | tee "$OUT/header.txt"
START=$SECONDS

# ---- throughput ----
if [ "$MEM_ONLY" != 1 ]; then
  read -r P0 P1 < <(free_ports); PORTS=("$P0" "$P1"); PIDS=()
  for i in 0 1; do start_server "$i" "${PORTS[$i]}"; PIDS+=("$SPID"); echo "# ${NAMES[$i]}: port ${PORTS[$i]} pid $SPID $(ident "${PORTS[$i]}")" | tee -a "$OUT/header.txt"; done
  echo "round,server,test,pipeline,n,rps,p50_ms,p99_ms,rc,secs,bg_cores" > "$OUT/raw.csv"
  HZ=$(getconf CLK_TCK); TIMEFORMAT='%U %S'
  busy() { awk '/^cpu /{print $2+$3+$4; exit}' /proc/stat; }   # user+nice+system jiffies, all CPUs (not irq: loopback softirq)
  pcpu() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
  for r in $(seq 1 "$ROUNDS"); do
    order="0 1"; [ $((r % 2)) -eq 0 ] && order="1 0"
    for P in $PIPELINES; do
      for i in $order; do "$CLI" -p "${PORTS[$i]}" FLUSHALL >/dev/null 2>&1 || echo "FLUSHALL failed on ${NAMES[$i]}" >&2; done
      for t in "${!TNAME[@]}"; do
        if [ -n "${TCMD[$t]}" ]; then read -ra args <<< "${TCMD[$t]}"; else args=(-t "$(tname "${TNAME[$t]}")"); fi
        n=$(n_for "${TNAME[$t]}" "$P")
        for i in $order; do
          b0=$(busy); s0=$(pcpu "${PIDS[$i]}"); t0=$(date +%s%N)
          { time { timeout "$SAMPLE_TIMEOUT" "${CPIN[@]}" "$RB" -h 127.0.0.1 -p "${PORTS[$i]}" -c "$CLIENTS" -n "$n" -P "$P" \
            -d "$DSIZE" -r "$KEYSPACE" --csv "${args[@]}" >"$OUT/last.csv" 2>"$OUT/last.err"; echo $? >"$OUT/last.rc"; } ; } 2>"$OUT/last.time"
          t1=$(date +%s%N); b1=$(busy); s1=$(pcpu "${PIDS[$i]}"); rc=$(cat "$OUT/last.rc")
          # bg = CPU (cores) used during the sample by everything except this server and the client
          bg=$(awk -v b="$((b1 - b0))" -v s="$((s1 - s0))" -v hz="$HZ" -v w="$((t1 - t0))" '{c=$1+$2} END{x=(b/hz-s/hz-c)/(w/1e9+1e-9); printf "%.2f", x<0?0:x}' "$OUT/last.time")
          grep -v 'Could not fetch server CONFIG' "$OUT/last.err" | sed "s|^|${NAMES[$i]} ${TNAME[$t]} P$P r$r: |" >> "$OUT/errors.log"
          # last CSV line (LRANGE_* print an LPUSH line first); numbers are the last 7 fields
          res=$(tail -1 "$OUT/last.csv" | tr -d '"' | awk -F, 'NF>=8 && $(NF-6)+0>0 {print $(NF-6)","$(NF-3)","$(NF-1)}')
          echo "$r,${NAMES[$i]},${TNAME[$t]},$P,$n,${res:-0,0,0},$rc,$(( (t1 - t0) / 1000000 )),$bg" >> "$OUT/raw.csv"
        done
      done
      printf '  round %d/%d P%-2s done (%ds)\n' "$r" "$ROUNDS" "$P" $((SECONDS - START)) >&2
    done
  done
  for p in "${PIDS[@]}"; do stop_server "$p"; done
fi

# ---- memory ----
gen_data() { # KIND -> path of a deterministic RESP file of that data set (cached), and its element count
  local kind=$1 n
  case $kind in strings) n=$NKEYS ;; hashes|zsets) n=1000000 ;; *) return 1 ;; esac
  local f=$CACHE/$kind-$n.resp
  if [ ! -s "$f" ]; then
    python3 - "$f" "$kind" "$n" <<'PY' || return 1
import os, random, string, sys
path, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(7015)
pool = ''.join(rng.choice(string.ascii_letters + string.digits) for _ in range(1 << 16)).encode()
def text(lo, hi):
    ln = rng.randint(lo, hi); o = rng.randrange(len(pool) - ln); return pool[o:o + ln]
def resp(*args):
    return b'*%d\r\n' % len(args) + b''.join(b'$%d\r\n%s\r\n' % (len(a), a) for a in args)
with open(path + '.tmp', 'wb') as out:
    buf = []
    if kind == 'strings':
        cmds = (resp(b'SET', b'key:%d' % i, text(16, 64)) for i in range(n))
    elif kind == 'hashes':
        cmds = (resp(b'HSET', b'h:%d' % i, *[x for j in range(100) for x in (b'f%d' % j, text(4, 16))])
                for i in range(n // 100))
    else:
        cmds = (resp(b'ZADD', b'z:%d' % i, *[x for j in range(100) for x in (b'%.2f' % (rng.random() * 1000), b'member:%d' % j)])
                for i in range(n // 100))
    for c in cmds:
        buf.append(c)
        if len(buf) >= 20000: out.write(b''.join(buf)); buf.clear()
    out.write(b''.join(buf))
os.replace(path + '.tmp', path)
PY
  fi
  echo "$f $n"
}
if [ "$THROUGHPUT_ONLY" != 1 ]; then
  echo "data,elements,server,used0,used1,rss0_kb,rss1_kb,replies,errors,dbsize,load_s" > "$OUT/mem.csv"
  rss() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null; }
  used() { "$CLI" -p "$1" INFO memory 2>/dev/null | tr -d '\r' | awk -F: '$1=="used_memory"{print $2}'; }
  for kind in $MEM_SETS; do
    read -r f n < <(gen_data "$kind") || die "data generation failed for $kind"
    [ -s "$f" ] || die "data generation failed for $kind"
    for i in 0 1; do
      read -r port _ < <(free_ports)
      start_server "$i" "$port"; sleep 0.5
      u0=$(used "$port"); r0=$(rss "$SPID"); t0=$(date +%s%N)
      pipe=$(timeout 600 "$CLI" -p "$port" --pipe < "$f" 2>&1); t1=$(date +%s%N)
      read -r errs reps < <(echo "$pipe" | sed -n 's/.*errors: \([0-9]*\), replies: \([0-9]*\).*/\1 \2/p' | tail -1)
      [ -z "${reps:-}" ] && { echo "compare.sh: ${NAMES[$i]}: redis-cli --pipe failed: $(echo "$pipe" | tail -2)" >&2; errs=-1; reps=0; }
      sleep 1
      u1=$(used "$port"); r1=$(rss "$SPID"); dbs=$("$CLI" -p "$port" DBSIZE 2>/dev/null)
      echo "$kind,$n,${NAMES[$i]},${u0:-},${u1:-},${r0:-},${r1:-},$reps,$errs,${dbs:-},$(( (t1 - t0) / 1000000 ))" >> "$OUT/mem.csv"
      stop_server "$SPID"
      printf '  memory %s %s done (%ds)\n' "$kind" "${NAMES[$i]}" $((SECONDS - START)) >&2
    done
  done
fi

# ---- report ----
python3 - "$OUT" <<'PY' | tee "$OUT/table.txt"
import csv, math, os, statistics as st, sys
out = sys.argv[1]
def num(x):
    try: return float(x)
    except (TypeError, ValueError): return None
raw = os.path.join(out, 'raw.csv')
if os.path.exists(raw):
    rows = list(csv.DictReader(open(raw)))
    tests, pipes, s = [], [], {}
    for x in rows:
        if x['test'] not in tests: tests.append(x['test'])
        if int(x['pipeline']) not in pipes: pipes.append(int(x['pipeline']))
        s[(x['test'], int(x['pipeline']), x['server'], x['round'])] = x
    rounds = sorted({x['round'] for x in rows}, key=int)
    print(f"\nthroughput, requests/s (median over {len(rounds)} rounds); ratio = median of the per-round russet/redis ratios")
    print(f"{'test':<10} {'P':>3} {'redis rps':>11} {'russet rps':>11} {'ratio':>6} {'min..max':>11}  {'p99 ms redis/russet':>19}  {'bg':>4}")
    geo, bad, noisy = {}, 0, 0
    for p in pipes:
        for t in tests:
            med, p99, bg = {}, {}, 0.0
            for sv in ('redis', 'russet'):
                xs = [s[(t, p, sv, r)] for r in rounds if (t, p, sv, r) in s]
                ok = [x for x in xs if float(x['rps']) > 0 and x['rc'] == '0']
                bad += len(xs) - len(ok); bg = max([bg] + [float(x['bg_cores']) for x in xs])
                med[sv] = st.median(float(x['rps']) for x in ok) if ok else None
                p99[sv] = st.median(float(x['p99_ms']) for x in ok) if ok else None
            pr = []
            for r in rounds:
                a, b = s.get((t, p, 'redis', r)), s.get((t, p, 'russet', r))
                if a and b and float(a['rps']) > 0 and float(b['rps']) > 0 and a['rc'] == b['rc'] == '0':
                    pr.append(float(b['rps']) / float(a['rps']))
            ratio = st.median(pr) if pr else None
            if ratio and not t.startswith('PING'): geo.setdefault(p, []).append(ratio)
            f = lambda v, spec: format(v, spec) if v is not None else 'ERR'
            rng = f"{min(pr):.2f}..{max(pr):.2f}" if pr else ''
            print(f"{t:<10} {p:>3} {f(med['redis'], '>11,.0f')} {f(med['russet'], '>11,.0f')} {f(ratio, '>6.2f')} {rng:>11}  "
                  f"{f(p99['redis'], '>9.3f')} / {f(p99['russet'], '<8.3f')}  {bg:>4.2f}{' !' if bg >= 0.15 else ''}")
            noisy += bg >= 0.15
        print()
    for p in pipes:
        rs = geo.get(p, [])
        if rs: print(f"geometric mean of ratios, P{p}: {math.exp(sum(map(math.log, rs)) / len(rs)):.3f} over {len(rs)} tests")
    print("bg = max CPU (cores) used by other processes during the row's samples; '!' = >= 0.15, the box was busy")
    if noisy: print(f"NOTE: {noisy} rows ran while other processes were busy: their ratios are less reliable")
    if bad: print(f"WARNING: {bad} failed samples (rc!=0 or no rps, shown as ERR / left out); see {out}/errors.log")
    elif os.path.exists(os.path.join(out, 'errors.log')) and os.path.getsize(os.path.join(out, 'errors.log')):
        print(f"note: redis-benchmark wrote to stderr, see {out}/errors.log")
mem = os.path.join(out, 'mem.csv')
if os.path.exists(mem):
    rows = list(csv.DictReader(open(mem)))
    units = {'strings': ('SETs', 'key', 'key:<i>, 16..64-byte values'),
             'hashes': ('hash fields', 'field', '10,000 hashes x 100 fields, 4..16-byte values'),
             'zsets': ('sorted-set members', 'member', '10,000 sorted sets x 100 members, 2-decimal scores')}
    for kind in dict.fromkeys(x['data'] for x in rows):
        m = {x['server']: x for x in rows if x['data'] == kind}
        n = int(next(iter(m.values()))['elements'])
        what, unit, desc = units.get(kind, (kind, 'element', ''))
        print(f"\nmemory after loading {n:,} {what} ({desc}; fresh server, empty-server baseline subtracted)")
        print(f"{'server':<7} {'used_memory MB':>14} {'B/'+unit:>8} {'RSS MB':>8} {'B/'+unit:>8}  {'baseline used/RSS MB':>20} {'keys':>9} {'load s':>6}")
        per = {}
        for sv in ('redis', 'russet'):
            x = m.get(sv)
            if not x: continue
            u0, u1, r0, r1 = (num(x[k]) for k in ('used0', 'used1', 'rss0_kb', 'rss1_kb'))
            du = u1 - u0 if u0 is not None and u1 is not None else None
            dr = (r1 - r0) * 1024 if r0 is not None and r1 is not None else None
            per[sv] = (du, dr)
            f = lambda v, w, d=1, k=1: format(v / k, f'>{w}.{d}f') if v is not None else format('n/a', f'>{w}')
            base = f"{f(u0, 1, 1, 2**20).strip()} / {f(r0, 1, 1, 1024).strip()}"
            print(f"{sv:<7} {f(du, 14, 1, 2**20)} {f(du, 8, 1, n)} {f(dr, 8, 1, 2**20)} {f(dr, 8, 1, n)}  {base:>20} {x['dbsize'] or 'n/a':>9} {int(x['load_s'])/1000:>6.1f}")
            keys = n if kind == 'strings' else n // 100
            if x['errors'] != '0' or x['dbsize'] != str(keys):
                print(f"  WARNING: {sv}: load errors={x['errors']} replies={x['replies']} dbsize={x['dbsize'] or 'n/a'} (expected {keys})")
        if len(per) == 2:
            rt = lambda a, b: f"{b / a:.2f}" if a and b else 'n/a'
            print(f"ratio russet/redis: used_memory {rt(per['redis'][0], per['russet'][0])}, RSS {rt(per['redis'][1], per['russet'][1])}")
PY
echo "results: $OUT   total time: $((SECONDS - START)) s"
