# Shared by the CI check scripts (tests/aot-smoke/run.sh, native-interop/install-check.sh): source it after
# setting $work (a scratch directory). check NAME COMMAND... runs one check, prints "ok - NAME" or
# "not ok - NAME" with the tail of its output, and counts it in $passed / $failed.
passed=0
failed=0
check() {
    local name="$1"
    shift
    if "$@" >"$work/check.log" 2>&1; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "not ok - $name"
        sed 's/^/    /' "$work/check.log" | tail -n 40
        failed=$((failed + 1))
    fi
}
