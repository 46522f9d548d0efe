# CLI test: --help of every verb, exit statuses and exact messages of usage errors.
. "$(dirname "$0")/common.bash"
MLP=$EX/fmnist_mlp.json

# top-level help and version go to stdout with status 0
for h in --help -h help; do
    run "$SINTER" $h
    expect_rc "sinter $h" 0
    expect_contains "sinter $h lists the verbs" "$OUT" "usage: sinter VERB"
    for v in check dump run compile train bench; do
        expect_contains "sinter $h lists $v" "$OUT" "  $v "
    done
done
run "$SINTER" --version
expect_rc "sinter --version" 0
expect_contains "sinter --version" "$OUT" "sinter 0."

# every verb has --help (and -h, and 'sinter help VERB'), even with other arguments around
for v in check dump opt run compile train bench; do
    run "$SINTER" $v --help
    expect_rc "sinter $v --help" 0
    expect_contains "sinter $v --help" "$OUT" "usage: sinter $v"
    expect_eq "sinter $v --help: stderr" "$ERR" ""
    help=$OUT
    run "$SINTER" $v -h
    expect_eq "sinter $v -h is --help" "$OUT" "$help"
    run "$SINTER" help $v
    expect_eq "sinter help $v is --help" "$OUT" "$help"
    run "$SINTER" $v "$MLP" --bogus --help
    expect_rc "sinter $v ... --help wins over other arguments" 0
done

# no arguments: usage on stderr, status 2
run "$SINTER"
expect_rc "sinter (no verb)" 2
expect_contains "sinter (no verb) prints usage" "$ERR" "usage: sinter VERB"

usage_error "unknown verb" 'sinter: unknown verb "chek" (did you mean "check"?)' "" -- "$SINTER" chek "$MLP"
usage_error "unknown verb, nothing close" 'sinter: unknown verb "frobnicate"; verbs: check, dump, opt, run, compile, train, eval, bench, import' "" -- "$SINTER" frobnicate
usage_error "option before the verb" 'sinter: unknown option --verbose (options follow the verb: sinter VERB [OPTIONS])' "" -- "$SINTER" --verbose check "$MLP"
usage_error "help for an unknown verb" 'sinter: unknown verb "nope"' "" -- "$SINTER" help nope

# check
usage_error "check without a model" "sinter check: expects a MODEL.json" check -- "$SINTER" check
usage_error "check unknown option" "sinter check: unknown option --verbos (did you mean --verbose?)" check -- "$SINTER" check --verbos "$MLP"
usage_error "check unknown option, nothing close" "sinter check: unknown option --xyzzy" check -- "$SINTER" check --xyzzy=3 "$MLP"

# dump
usage_error "dump without a model" "sinter dump: expects a MODEL.json" dump -- "$SINTER" dump
usage_error "dump two models" "sinter dump: expects one MODEL.json, got \"a.json\" and \"b.json\"" dump -- "$SINTER" dump a.json b.json
usage_error "dump --format missing" "sinter dump: --format expects text, dot, json, svg or png" dump -- "$SINTER" dump "$MLP" --format
usage_error "dump --format bad" "sinter dump: --format expects text, dot, json, svg or png, got \"jpeg\"" dump -- "$SINTER" dump "$MLP" --format jpeg
usage_error "dump --format= bad" "sinter dump: --format expects text, dot, json, svg or png, got \"\"" dump -- "$SINTER" dump "$MLP" --format=
usage_error "dump --after missing" "sinter dump: --after expects a pass name or all" dump -- "$SINTER" dump "$MLP" --after
usage_error "dump --after all --format json" "sinter dump: --after all prints text only; use --after PASS with --format json" dump -- "$SINTER" dump "$MLP" --after all --format json
usage_error "dump --after plan --format json" "sinter dump: --after plan prints text or a picture (dot, svg, png), not json" dump -- "$SINTER" dump "$MLP" --after plan --format json
usage_error "dump --show-data --format dot" "sinter dump: --show-data applies to --format text (json always has the data)" dump -- "$SINTER" dump "$MLP" --show-data --format dot
usage_error "dump -o missing" "sinter dump: -o expects an output file" dump -- "$SINTER" dump "$MLP" -o
usage_error "dump unknown option" "sinter dump: unknown option --fromat (did you mean --format?)" dump -- "$SINTER" dump "$MLP" --fromat dot
run "$SINTER" dump "$MLP" --after nosuchpass
expect_rc "dump --after unknown pass" 2
expect_contains "dump --after unknown pass" "$ERR" 'sinter dump: --after expects a pass name or all, got "nosuchpass" (passes: shape_infer, const_fold, dce, cse'
run "$SINTER" dump "$MLP" --passes dce,nosuch
expect_rc "dump --passes unknown pass" 2
expect_contains "dump --passes unknown pass" "$ERR" 'sinter dump: --passes: unknown pass "nosuch" (passes: shape_infer'
usage_error "dump --after a pass the pipeline does not run" "sinter dump: --after cse: the pipeline does not run cse" dump -- "$SINTER" dump "$MLP" --passes dce --after cse

# run
usage_error "run without a model" "sinter run: expects a MODEL.json (or LIB.so)" run -- "$SINTER" run --interp
usage_error "run --input missing" "sinter run: --input expects NAME=FILE.npy" run -- "$SINTER" run "$MLP" --interp --input
usage_error "run --input without =" "sinter run: --input expects NAME=FILE.npy, got \"x.npy\"" run -- "$SINTER" run "$MLP" --interp --input x.npy
usage_error "run --input empty name" "sinter run: --input expects NAME=FILE.npy, got \"=x.npy\"" run -- "$SINTER" run "$MLP" --interp --input =x.npy
usage_error "run --output empty file" "sinter run: --output expects NAME=FILE.npy, got \"logits=\"" run -- "$SINTER" run "$MLP" --interp --output logits=
usage_error "run --n zero" "sinter run: --n expects a positive integer (the batch symbol N), got \"0\"" run -- "$SINTER" run "$MLP" --interp --n 0
usage_error "run --n junk" "sinter run: --n expects a positive integer (the batch symbol N), got \"4x\"" run -- "$SINTER" run "$MLP" --interp --n=4x
usage_error "run --show junk" "sinter run: --show expects a number of values to print (0 to 1000000), got \"-1\"" run -- "$SINTER" run "$MLP" --interp --show -1
usage_error "run unknown option" "sinter run: unknown option --intrep (did you mean --interp?)" run -- "$SINTER" run "$MLP" --intrep
# compiled code: the library or the inputs are read (tests/cli/native_run.sh covers the rest)
run "$SINTER" run "$TMP/libfmnist_mlp.so" --input x=x.npy
expect_rc "run a missing library" 1
expect_eq "run a missing library: message" "$ERR" "$TMP/libfmnist_mlp.so: cannot open: No such file or directory"
run "$SINTER" run "$MLP" --input x="$TMP/x.npy"
expect_rc "run a .json without --interp reads its inputs" 1
expect_eq "run a .json without --interp: message" "$ERR" "$TMP/x.npy: cannot open: No such file or directory"

# train's own usage errors: tests/cli/train.sh

finish
