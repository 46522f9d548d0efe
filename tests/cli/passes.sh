# Pass tests: every tests/passes/PASS/*.sir holds "// RUN: opt ARGS" (the arguments of
# `sinter opt FILE`) and "// CHECK:" lines matched against the output (tests/passes/check.awk).
# "// RUN-FAIL: opt ARGS" expects exit status 1, and the CHECK lines match stderr instead.
source "$(dirname "$0")/common.bash"

count=0
for t in "$SRC"/tests/passes/*/*.sir; do
    count=$((count + 1))
    run_line=$(grep -m1 -E '^// RUN(-FAIL)?: opt ' "$t")
    CHECKS=$((CHECKS + 1))
    if [ -z "$run_line" ]; then
        fail "$t: no '// RUN: opt ...' line"
        continue
    fi
    args=${run_line#*: opt }
    # shellcheck disable=SC2086  # the RUN line's arguments split on blanks
    run "$SINTER" opt "$t" $args
    name=${t#"$SRC"/tests/passes/}
    if [[ $run_line == "// RUN-FAIL:"* ]]; then
        [ "$RC" = 1 ] || { fail "$name: exit status $RC, expected 1"; continue; }
        printf '%s\n' "$ERR" | awk -v test="$t" -f "$SRC/tests/passes/check.awk" || fail "$name: stderr does not match"
    else
        [ "$RC" = 0 ] || { fail "$name: exit status $RC: $ERR"; continue; }
        printf '%s\n' "$OUT" | awk -v test="$t" -f "$SRC/tests/passes/check.awk" || fail "$name: output does not match"
    fi
done
# the verb's own errors
run "$SINTER" opt "$SRC/tests/passes/dce/dead_node.sir" --passes dce,bogus
expect_rc "opt --passes with an unknown pass" 2
expect_contains "opt unknown pass: lists the passes" "$ERR" 'sinter opt: --passes: unknown pass "bogus" (passes: shape_infer, '
run "$SINTER" opt "$SRC/tests/passes/dce/dead_node.sir"
expect_rc "opt without --passes" 2
run "$SINTER" opt "$SRC/tests/passes/cse/chain.sir" --passes cse,dce --stop-after 1
expect_rc "opt --stop-after 1" 0
expect_contains "opt --stop-after 1: cse ran, dce did not" "$OUT" '%b2 = Relu(%a1)'
run "$SINTER" opt "$SRC/tests/passes/cse/chain.sir" --passes cse,dce -o "$TMP/out.sir"
expect_rc "opt -o" 0
run "$SINTER" dump "$TMP/out.sir"
expect_eq "opt -o writes a .sir that dumps the same" "$OUT" "$(cat "$TMP/out.sir")"

CHECKS=$((CHECKS + 1))
[ "$count" -ge 35 ] || fail "only $count pass tests in tests/passes"
# every registered pass has a folder of at least five cases; qint8 and sparsify, new, have
# none yet (qint8 needs calibrated ranges, which `sinter opt` cannot take)
npasses=0
for p in $(sed -n 's/^PASS(\([a-z_0-9]*\),.*/\1/p' "$SRC/passes/passes.def"); do
    npasses=$((npasses + 1))
    if { [ "$p" = qint8 ] || [ "$p" = sparsify ]; } && [ ! -d "$SRC/tests/passes/$p" ]; then
        echo "note: pass $p has no pass tests yet"
        continue
    fi
    n=$(ls "$SRC/tests/passes/$p/"*.sir 2>/dev/null | wc -l)
    CHECKS=$((CHECKS + 1))
    [ "$n" -ge 5 ] || fail "pass $p has $n test files in tests/passes/$p (at least 5 wanted)"
done
CHECKS=$((CHECKS + 1))
[ "$npasses" -ge 10 ] || fail "only $npasses passes read from passes/passes.def"
finish
