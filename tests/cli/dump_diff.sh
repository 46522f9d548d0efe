# CLI test: `sinter dump --after all --diff` and `--after PASS --diff` on every example, both
# pipelines. The diff output is checked against the full `--after all` dumps: a stage equal to the
# one before prints exactly "; PASS: no change"; a changed stage prints a unified diff whose labels
# name the two stages and which, applied with patch(1) to the stage before, gives the stage.
. "$(dirname "$0")/common.bash"

# split_stages FILE PREFIX: the `--after all` dump in FILE as PREFIX.1, PREFIX.2, ... (without
# the "; after PASS" headers and the blank line between stages); prints the pass names.
split_stages() {
    awk -v p="$2" '
        /^; after / { if (n) close(f); n++; f = p "." n; printf "" > f; print substr($0, 9); blank = 0; next }
        /^$/ { blank++; next }
        { for (; blank > 0; blank--) print "" > f; print > f }
    ' "$1"
}

# split_diff FILE PREFIX: the --diff output as PREFIX.1, PREFIX.2, ...: one chunk per pass, each
# starting with its "no change" line or its "--- " label.
split_diff() {
    awk -v p="$2" '
        /^; [a-z_]+: no change$/ || /^--- / { if (n) close(f); n++; f = p "." n }
        { print > f }
    ' "$1"
}

HAVE_PATCH=0
command -v patch >/dev/null 2>&1 && HAVE_PATCH=1

for m in fmnist_mlp lenet5 resnet_small transformer_encoder; do
    for pl in inference training; do
        what="$m ($pl)"
        run "$SINTER" dump "$EX/$m.json"
        expect_rc "dump $what" 0
        printf '%s\n' "$OUT" >"$TMP/$m.$pl.stage.0"
        "$SINTER" dump "$EX/$m.json" --pipeline $pl --after all >"$TMP/all"
        mapfile -t passes < <(split_stages "$TMP/all" "$TMP/$m.$pl.stage")
        run "$SINTER" dump "$EX/$m.json" --pipeline $pl --after all --diff
        expect_rc "dump $what --after all --diff" 0
        expect_eq "dump $what --diff: stderr" "$ERR" ""
        printf '%s\n' "$OUT" >"$TMP/diff"
        rm -f "$TMP/chunk".*
        split_diff "$TMP/diff" "$TMP/chunk"
        n=${#passes[@]}
        expect_eq "dump $what --diff: one chunk per pass" "$(ls "$TMP/chunk".* | wc -l)" "$n"
        changed=0
        prev_label="as parsed"
        for ((i = 1; i <= n; i++)); do
            pass=${passes[i - 1]}
            prev="$TMP/$m.$pl.stage.$((i - 1))"
            cur="$TMP/$m.$pl.stage.$i"
            chunk=$(cat "$TMP/chunk.$i" 2>/dev/null)
            if cmp -s "$prev" "$cur"; then
                expect_eq "dump $what --diff: $pass ($i of $n) changed nothing" "$chunk" "; $pass: no change"
            else
                changed=$((changed + 1))
                expect_eq "dump $what --diff: $pass ($i of $n) labels" "$(head -n 2 <<<"$chunk")" \
                    "--- $prev_label
+++ after $pass ($i of $n)"
                expect_contains "dump $what --diff: $pass has a hunk" "$chunk" "
@@ -"
                if [ $HAVE_PATCH = 1 ]; then
                    CHECKS=$((CHECKS + 1))
                    if ! patch --quiet -o "$TMP/patched" "$prev" <"$TMP/chunk.$i" >/dev/null 2>&1 ||
                        ! cmp -s "$TMP/patched" "$cur"; then
                        fail "dump $what --diff: the $pass diff applied to the stage before is not the stage after"
                    fi
                    rm -f "$TMP/patched"
                fi
            fi
            prev_label="after $pass ($i of $n)"
        done
        # the examples' passes change something (fuse groups every one; autodiff adds the
        # backward graph), and most stages do not: the diff prints only the changed ones
        CHECKS=$((CHECKS + 1))
        [ "$changed" -ge 1 ] && [ "$changed" -lt "$n" ] || fail "dump $what --diff: $changed of $n stages changed"
    done
done

# the MLP: the inference pipeline's only change is fuse's group marks, four lines
run "$SINTER" dump "$EX/fmnist_mlp.json" --after all --diff
expect_eq "MLP --diff: seven unchanged stages (no BatchNormalization to fold)" "$(grep -c ': no change$' <<<"$OUT")" 7
expect_eq "MLP --diff: fuse changes four lines" "$(grep -c '^+%' <<<"$OUT")" 4
expect_contains "MLP --diff: the Gemm joins group 1" "$OUT" "
+%h1 = Gemm(%xn, %fc1.weight, %fc1.bias) {transB=1} : f32[N,256] group=1    # fc1"

# --after PASS --diff: that pass against the stage before it, nothing else
run "$SINTER" dump "$EX/fmnist_mlp.json" --after fuse --diff
expect_rc "--after fuse --diff" 0
expect_eq "--after fuse --diff: the fuse labels" "$(head -n 2 <<<"$OUT")" "--- after fold_bn (7 of 8)
+++ after fuse (8 of 8)"
run "$SINTER" dump "$EX/fmnist_mlp.json" --after cse --diff
expect_eq "--after cse --diff: one line" "$OUT" "; cse: no change"
run "$SINTER" dump "$EX/fmnist_mlp.json" --after autodiff --diff
expect_rc "--after autodiff --diff" 0
expect_eq "--after autodiff --diff: the labels" "$(head -n 2 <<<"$OUT")" "--- after canonicalize (6 of 13)
+++ after autodiff (7 of 13)"
expect_contains "--after autodiff --diff: adds the update" "$OUT" "
+training update %fc1.weight <- %\"next/fc1.weight\""
run "$SINTER" dump "$EX/fmnist_mlp.json" --passes const_fold,dce --after dce --diff
expect_eq "--passes --after dce --diff: one line" "$OUT" "; dce: no change"

usage_error "--diff without --after" "sinter dump: --diff needs --after PASS or --after all, with --format text" dump -- \
    "$SINTER" dump "$EX/fmnist_mlp.json" --diff
usage_error "--diff --after plan" "sinter dump: --diff needs --after PASS or --after all, with --format text" dump -- \
    "$SINTER" dump "$EX/fmnist_mlp.json" --after plan --diff
usage_error "--diff --format dot" "sinter dump: --diff needs --after PASS or --after all, with --format text" dump -- \
    "$SINTER" dump "$EX/fmnist_mlp.json" --after fuse --format dot --diff

finish
