# Helpers sourced by the tests/cli/*.sh tests of the sinter command (not a test itself).
# A test script runs as: bash X.sh /path/to/sinter /path/to/source-dir

set -u
SINTER=${1:?usage: bash X.sh SINTER_BINARY SOURCE_DIR}
SRC=${2:?usage: bash X.sh SINTER_BINARY SOURCE_DIR}
EX=$SRC/examples
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sinter-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0
CHECKS=0

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# run CMD ARGS...: runs it, leaving stdout in $OUT, stderr in $ERR and the status in $RC.
run() {
    "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}

# expect_rc WHAT CODE: the last run exited with CODE.
expect_rc() {
    CHECKS=$((CHECKS + 1))
    if [ "$RC" != "$2" ]; then
        fail "$1: exit status $RC, expected $2"
        [ -n "$OUT" ] && echo "  stdout: ${OUT:0:600}" >&2
        [ -n "$ERR" ] && echo "  stderr: ${ERR:0:600}" >&2
    fi
}

# expect_eq WHAT ACTUAL EXPECTED: exact text comparison.
expect_eq() {
    CHECKS=$((CHECKS + 1))
    if [ "$2" != "$3" ]; then
        fail "$1"
        echo "  got:      $(printf '%s' "$2" | head -c 1200)" >&2
        echo "  expected: $(printf '%s' "$3" | head -c 1200)" >&2
    fi
}

# expect_contains WHAT TEXT NEEDLE
expect_contains() {
    CHECKS=$((CHECKS + 1))
    case "$2" in
    *"$3"*) ;;
    *)
        fail "$1: missing \"$3\""
        echo "  in: $(printf '%s' "$2" | head -c 1200)" >&2
        ;;
    esac
}

# usage_error WHAT EXPECTED-FIRST-LINE VERB -- CMD...: exit 2, the exact message, then the hint.
usage_error() {
    local what=$1 msg=$2 verb=$3
    shift 4
    run "$@"
    expect_rc "$what" 2
    if [ -n "$verb" ]; then
        expect_eq "$what: message" "$ERR" "$msg
try 'sinter $verb --help'"
    else
        expect_eq "$what: message" "$ERR" "$msg
try 'sinter --help'"
    fi
    expect_eq "$what: nothing on stdout" "$OUT" ""
}

# mknpy FILE DESCR SHAPE HEX: writes a format 1.0 .npy file. DESCR like '<f4', SHAPE like
# '(2, 3)', HEX the little-endian data bytes as hex digits ("0000803f...").
mknpy() {
    local file=$1 descr=$2 shape=$3 hex=$4
    local dict="{'descr': '$descr', 'fortran_order': False, 'shape': $shape, }"
    local total=$((10 + ${#dict} + 1))
    local pad=$(((64 - total % 64) % 64))
    local hlen=$((${#dict} + pad + 1))
    {
        printf '\x93NUMPY\x01\x00'
        printf "\\x$(printf '%02x' $((hlen & 255)))\\x$(printf '%02x' $((hlen >> 8)))"
        printf '%s' "$dict"
        printf '%*s' "$pad" ''
        printf '\n'
        local i
        for ((i = 0; i < ${#hex}; i += 2)); do
            printf "\\x${hex:i:2}"
        done
    } >"$file"
}

# mksafetensors FILE NAME DTYPE SHAPE HEX: a .safetensors file with one tensor (DTYPE like F32,
# SHAPE like [3], HEX the little-endian data bytes).
mksafetensors() {
    local file=$1 name=$2 dtype=$3 shape=$4 hex=$5
    local nbytes=$((${#hex} / 2))
    local head="{\"$name\":{\"dtype\":\"$dtype\",\"shape\":$shape,\"data_offsets\":[0,$nbytes]}}"
    local len=${#head} i
    {
        for ((i = 0; i < 8; i++)); do printf "\\x$(printf '%02x' $(((len >> (8 * i)) & 255)))"; done
        printf '%s' "$head"
        for ((i = 0; i < ${#hex}; i += 2)); do printf "\\x${hex:i:2}"; done
    } >"$file"
}

# Little-endian float32 bytes of a few exact values.
F1=0000803f F2=00000040 F3=00004040 F4=00008040 FHALF=0000003f FM1=000080bf F0=00000000

# skip WHY: ends the script as skipped (exit 77, CTest's SKIP_RETURN_CODE) unless checks failed.
skip() {
    echo "$(basename "$0"): skipped: $*" >&2
    [ "$FAILS" -gt 0 ] && finish
    exit 77
}

# Ends the script: a summary line and the exit status.
finish() {
    if [ "$FAILS" -gt 0 ]; then
        echo "$(basename "$0"): $FAILS of $CHECKS checks failed" >&2
        exit 1
    fi
    echo "$(basename "$0"): all $CHECKS checks passed"
    exit 0
}
