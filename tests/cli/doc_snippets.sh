# CLI test: command output quoted in the docs is what the command prints now.
#
# A fenced block in docs/*.md or README.md that follows a line
#     <!-- output: sinter ARGS... -->      must equal the output of `sinter ARGS...`
#     <!-- excerpt: sinter ARGS... -->     holds lines of that output, in order; "..." inside a
#                                          line stands for any text (a cut)
# The command runs in the source folder, so paths are the repository's.
. "$(dirname "$0")/common.bash"

# excerpt_check WANT GOT: the lines of WANT appear in GOT in order (a "..." matches anything).
excerpt_check() {
    awk -v want="$1" '
        # does line s match pattern p, where "..." in p matches any text?
        function matches(s, p,   n, parts, i, at, pos) {
            n = split(p, parts, /\.\.\./)
            if (n == 1) return s == p
            if (substr(s, 1, length(parts[1])) != parts[1]) return 0
            pos = length(parts[1]) + 1
            for (i = 2; i < n; i++) {
                at = index(substr(s, pos), parts[i])
                if (!at) return 0
                pos += at - 1 + length(parts[i])
            }
            return length(s) - pos + 1 >= length(parts[n]) && substr(s, length(s) - length(parts[n]) + 1) == parts[n]
        }
        BEGIN { nw = split(want, w, "\n"); k = 1 }
        k <= nw && matches($0, w[k]) { k++ }
        END { if (k <= nw) { print "not found (in order): " w[k]; exit 1 } }'
}

n=0
for doc in "$SRC"/docs/*.md "$SRC"/README.md; do
    # one record per snippet: KIND<TAB>COMMAND, then the block, then a line "\x01"
    awk '
        /^<!-- (output|excerpt): sinter .* -->$/ {
            kind = $2; sub(/:$/, "", kind)
            cmd = $0; sub(/^<!-- (output|excerpt): /, "", cmd); sub(/ -->$/, "", cmd)
            pending = 1; next
        }
        pending && /^```/ { print kind "\t" cmd; inblock = 1; pending = 0; next }
        inblock && /^```/ { print "\001"; inblock = 0; next }
        inblock { print }
    ' "$doc" >"$TMP/snippets"
    while IFS=$'\t' read -r kind cmd; do
        want=""
        while IFS= read -r line && [ "$line" != $'\001' ]; do
            want+="$line"$'\n'
        done
        want=${want%$'\n'}
        n=$((n + 1))
        what="${doc#"$SRC"/}: $cmd"
        read -r -a args <<<"${cmd#sinter }"
        got=$(cd "$SRC" && "$SINTER" "${args[@]}" 2>&1)
        if [ "$kind" = output ]; then
            CHECKS=$((CHECKS + 1))
            printf '%s\n' "$want" >"$TMP/want"
            printf '%s\n' "$got" >"$TMP/got"
            if ! cmp -s "$TMP/want" "$TMP/got"; then
                fail "$what: the quoted output differs (- the doc, + sinter now):"
                diff -u "$TMP/want" "$TMP/got" | tail -n +3 | head -20 >&2
            fi
        else
            CHECKS=$((CHECKS + 1))
            if ! msg=$(excerpt_check "$want" <<<"$got"); then
                fail "$what: $msg"
            fi
        fi
    done <"$TMP/snippets"
done
# the docs quote at least the worked examples of docs/ir.md
CHECKS=$((CHECKS + 1))
[ "$n" -ge 3 ] || fail "only $n quoted outputs found in the docs"

finish
