# CLI test: examples/idx2npy (IDX -> .npy), its header validation, and its output read by `sinter run`.
. "$(dirname "$0")/common.bash"
IDX2NPY=$(dirname "$SINTER")/idx2npy
if [ ! -x "$IDX2NPY" ]; then
    echo "idx2npy.sh: $IDX2NPY not built; nothing to test"
    exit 0
fi

# bytes FILE HEX: raw bytes from hex digits
bytes() {
    local i
    for ((i = 0; i < ${#2}; i += 2)); do printf "\\x${2:i:2}"; done >"$1"
}

# Identity models that print what idx2npy wrote (no numpy needed).
cat >"$TMP/labels.json" <<'EOF'
{"sinter": 1, "name": "labels", "inputs": [{"name": "y", "dtype": "int64", "shape": ["N"]}],
 "outputs": ["out"], "nodes": [{"op": "Identity", "inputs": ["y"], "outputs": ["out"]}]}
EOF
cat >"$TMP/images.json" <<'EOF'
{"sinter": 1, "name": "images", "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 4]}],
 "outputs": ["out"], "nodes": [{"op": "Identity", "inputs": ["x"], "outputs": ["out"]}]}
EOF
cat >"$TMP/images4.json" <<'EOF'
{"sinter": 1, "name": "images4", "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 1, 2, 2]}],
 "outputs": ["out"], "nodes": [{"op": "Identity", "inputs": ["x"], "outputs": ["out"]}]}
EOF

# labels: 5 items 3 1 4 1 5, gzipped
bytes "$TMP/lab.idx" "0000080100000005""0301040105"
gzip -c "$TMP/lab.idx" >"$TMP/lab.idx.gz"
run "$IDX2NPY" "$TMP/lab.idx.gz" "$TMP/lab.npy"
expect_rc "idx2npy labels" 0
expect_eq "idx2npy labels: report" "$OUT" "idx2npy: wrote $TMP/lab.npy: int64 [5] (items 0..4 of $TMP/lab.idx.gz)"
run "$SINTER" run "$TMP/labels.json" --interp --input y="$TMP/lab.npy"
expect_contains "idx2npy labels read back" "$OUT" "  values: 3 1 4 1 5"
run "$IDX2NPY" --offset 1 --count 3 "$TMP/lab.idx" "$TMP/lab3.npy"
expect_rc "idx2npy --offset --count on an uncompressed file" 0
run "$SINTER" run "$TMP/labels.json" --interp --input y="$TMP/lab3.npy"
expect_contains "idx2npy --offset 1 --count 3 read back" "$OUT" "  values: 1 4 1"

# images: 2 images of 2x2 pixels, scaled to [0, 1]
bytes "$TMP/img.idx" "00000803000000020000000200000002""00ff3366""ccff0000"
gzip -c "$TMP/img.idx" >"$TMP/img.idx.gz"
run "$IDX2NPY" "$TMP/img.idx.gz" "$TMP/img.npy"
expect_rc "idx2npy images" 0
run "$SINTER" run "$TMP/images.json" --interp --input x="$TMP/img.npy"
expect_contains "idx2npy images read back" "$OUT" "out: f32[2,4]"
expect_contains "idx2npy images scaled" "$OUT" "  values: 0 1 0.2 0.4 0.8 1 0 0"
run "$IDX2NPY" --nchw --offset 1 "$TMP/img.idx.gz" "$TMP/img4.npy"
expect_rc "idx2npy --nchw" 0
run "$SINTER" run "$TMP/images4.json" --interp --input x="$TMP/img4.npy"
expect_contains "idx2npy --nchw read back" "$OUT" "out: f32[1,1,2,2]"
expect_contains "idx2npy --nchw --offset 1 values" "$OUT" "  values: 0.8 1 0 0"

# broken headers and data: status 1, the file and the problem named
bad() {
    local what=$1 hex=$2 msg=$3
    shift 3
    bytes "$TMP/bad.idx" "$hex"
    run "$IDX2NPY" "$@" "$TMP/bad.idx" "$TMP/bad.npy"
    expect_rc "idx2npy $what" 1
    expect_eq "idx2npy $what: message" "$ERR" "idx2npy: $TMP/bad.idx: $msg"
    CHECKS=$((CHECKS + 1))
    [ -e "$TMP/bad.npy" ] && fail "idx2npy $what: wrote an output file"
}
bad "bad magic" "0100080100000001""07" "not an IDX file (magic bytes 01 00, expected 00 00)"
bad "float IDX" "00000d0100000001""00000000" "IDX element type 0x0d is not supported (only 0x08, unsigned byte)"
bad "2-D IDX" "000008020000000100000001""07" "IDX file has 2 dims; expected 3 (images) or 1 (labels)"
bad "short header" "000008" "truncated: expected 4 bytes of the IDX header, got 3"
bad "short dims" "0000080300000002" "truncated: expected 12 bytes of the IDX dimensions, got 4"
bad "truncated labels" "000008010000000a""0102030405" "truncated: expected 10 bytes of the label data, got 5"
bad "truncated images" "00000803000000020000000200000002""00ff33" "truncated: expected 8 bytes of the image data, got 3"
bad "zero-size images" "00000803000000020000000000000002" "image size 0x2 is not plausible (corrupt header?)"
bad "huge count" "0000080177359400" "item count 2000000000 is implausibly large (corrupt header?)"
bad "offset past the end" "0000080100000002""0102" "--offset 3 is past the end (the file holds 2 items)" --offset 3
bad "count past the end" "0000080100000002""0102" "--offset 1 --count 2 asks for more than the 2 items the file holds" --offset 1 --count 2

run "$IDX2NPY" "$TMP/none.gz" "$TMP/x.npy"
expect_rc "idx2npy missing file" 1
expect_eq "idx2npy missing file: message" "$ERR" "idx2npy: $TMP/none.gz: cannot open: No such file or directory"

# usage errors: status 2
run "$IDX2NPY" "$TMP/lab.idx"
expect_rc "idx2npy without an output" 2
expect_eq "idx2npy without an output: message" "$ERR" "idx2npy: expects an input IDX file and an output .npy file
try 'idx2npy --help'"
run "$IDX2NPY" --count x "$TMP/lab.idx" "$TMP/o.npy"
expect_rc "idx2npy --count x" 2
expect_eq "idx2npy --count x: message" "$ERR" "idx2npy: --count expects a non-negative integer
try 'idx2npy --help'"
run "$IDX2NPY" --nchw "$TMP/lab.idx" "$TMP/o.npy"
expect_rc "idx2npy --nchw on labels" 2
run "$IDX2NPY" --help
expect_rc "idx2npy --help" 0
expect_contains "idx2npy --help" "$OUT" "usage: idx2npy"

finish
