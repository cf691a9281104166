#!/usr/bin/env bash
# Runs every test of the project:
#   1. cargo build --release
#   2. cargo test --release      (unit, integration and differential tests;
#                                 the differential tests need redis-server on PATH)
#   3. pytest tests/python       (Python client tests, in .venv)
# and ends with one line "N passed, M failed" summing Rust and Python tests.
#
# Environment:
#   SKIP_CARGO=1          skip the cargo build/test steps
#   RUSSET_SERVER_BIN     server binary for the Python tests
#                         (default: <repo>/target/release/russet-server)
#   PYTEST_ARGS           extra arguments for pytest (e.g. "-x -k django")
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
REQS="$ROOT/tests/python/requirements.txt"
STAMP="$VENV/.requirements.sha256"
LOGDIR="$(mktemp -d "${TMPDIR:-/tmp}/russet-test.XXXXXX")"
trap 'rm -rf "$LOGDIR"' EXIT

step() { printf '\n==> %s\n' "$*"; }

rust_passed=0
rust_failed=0
py_passed=0
py_failed=0
status=0

# ---------------------------------------------------------------- Python venv
step "Python venv (.venv) from tests/python/requirements.txt"
if [[ ! -x "$VENV/bin/python" || ! -x "$VENV/bin/pip" ]]; then
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV"; then
        echo "error: 'python3 -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi
want="$( (cat "$REQS"; "$VENV/bin/python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS"
    echo "$want" > "$STAMP"
    echo "installed: $(tr '\n' ' ' < <(grep -vE '^\s*(#|$)' "$REQS"))"
else
    echo "up to date"
fi

# ---------------------------------------------------------------- Rust
if [[ "${SKIP_CARGO:-0}" == "1" ]]; then
    step "cargo build/test skipped (SKIP_CARGO=1)"
else
    step "cargo build --release"
    cargo build --release

    step "cargo test --release"
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "warning: redis-server not on PATH; differential tests need it" >&2
    fi
    set +e
    cargo test --release 2>&1 | tee "$LOGDIR/cargo-test.log"
    rc=${PIPESTATUS[0]}
    set -e
    # "test result: ok. 12 passed; 0 failed; 0 ignored; ..." (one per test binary)
    read -r rust_passed rust_failed < <(
        awk '/^test result:/ {
                 for (i = 1; i <= NF; i++) {
                     if ($(i+1) ~ /^passed/) p += $i
                     if ($(i+1) ~ /^failed/) f += $i
                 }
             }
             END { print p + 0, f + 0 }' "$LOGDIR/cargo-test.log")
    if [[ $rc -ne 0 ]]; then
        echo "cargo test failed (exit $rc)" >&2
        status=1
        # a build failure of the tests counts as at least one failure
        if [[ $rust_failed -eq 0 ]]; then rust_failed=1; fi
    fi
    echo "cargo test summary: $rust_passed passed, $rust_failed failed"
fi

# ---------------------------------------------------------------- Python tests
export RUSSET_SERVER_BIN="${RUSSET_SERVER_BIN:-$ROOT/target/release/russet-server}"
step "pytest tests/python (RUSSET_SERVER_BIN=$RUSSET_SERVER_BIN)"
set +e
# shellcheck disable=SC2086
"$VENV/bin/pytest" tests/python -q ${PYTEST_ARGS:-} 2>&1 | tee "$LOGDIR/pytest.log"
rc=${PIPESTATUS[0]}
set -e
# last line looks like "3 failed, 160 passed, 2 skipped, 1 error in 40.1s"
summary="$(grep -E '^=*\s*[0-9]+ (passed|failed|error|errors|skipped|deselected)' "$LOGDIR/pytest.log" | tail -n 1 || true)"
count() { grep -oE "[0-9]+ $1" <<<"$summary" | head -n 1 | cut -d' ' -f1 || true; }
py_passed="$(count passed)"; py_passed="${py_passed:-0}"
py_failed="$(count failed)"; py_failed="${py_failed:-0}"
py_errors="$(count 'errors?')"; py_errors="${py_errors:-0}"
py_failed=$((py_failed + py_errors))
if [[ $rc -ne 0 ]]; then
    echo "pytest failed (exit $rc)" >&2
    status=1
    if [[ $py_failed -eq 0 ]]; then py_failed=1; fi
fi

# ---------------------------------------------------------------- totals
step "totals (rust: $rust_passed passed, $rust_failed failed; python: $py_passed passed, $py_failed failed)"
echo "$((rust_passed + py_passed)) passed, $((rust_failed + py_failed)) failed"
exit $status
