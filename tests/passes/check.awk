# A small FileCheck: reads the test file's "// CHECK" lines (pass -v test=FILE), then matches
# the output on stdin. CHECK: a line containing the text, after the previous match;
# CHECK-NEXT: the line right after the previous match; CHECK-NOT: no line between the previous
# match and the next one (or the end) contains it. Matching is by fixed substring.
BEGIN {
    n = 0
    while ((getline line < test) > 0) {
        if (match(line, /^\/\/ CHECK(-NEXT|-NOT)?: /)) {
            kind[n] = substr(line, 9, RLENGTH - 10)
            text[n] = substr(line, RLENGTH + 1)
            n++
        }
    }
    if (n == 0) { print test ": no CHECK lines" > "/dev/stderr"; exit 2 }
}
{ out[++nout] = $0 }
END {
    if (n == 0) exit 2
    pos = 0; bad = 0
    for (i = 0; i < n && !bad; i++) {
        if (kind[i] == "-NOT") continue
        from = pos + 1
        if (kind[i] == "-NEXT") {
            if (!(from <= nout && index(out[from], text[i]))) {
                printf "%s: CHECK-NEXT: \"%s\" is not on the line after line %d of the output\n", test, text[i], pos > "/dev/stderr"
                bad = 1; break
            }
            found = from
        } else {
            found = 0
            for (l = from; l <= nout; l++) if (index(out[l], text[i])) { found = l; break }
            if (!found) {
                printf "%s: CHECK: \"%s\" not found after line %d of the output\n", test, text[i], pos > "/dev/stderr"
                bad = 1; break
            }
        }
        # the CHECK-NOTs before this one cover (pos, found)
        for (j = i - 1; j >= 0 && kind[j] == "-NOT"; j--)
            for (l = pos + 1; l < found; l++) if (index(out[l], text[j])) {
                printf "%s: CHECK-NOT: \"%s\" found at line %d of the output\n", test, text[j], l > "/dev/stderr"
                bad = 1
            }
        pos = found
    }
    # trailing CHECK-NOTs cover the rest
    for (j = n - 1; !bad && j >= 0 && kind[j] == "-NOT"; j--)
        for (l = pos + 1; l <= nout; l++) if (index(out[l], text[j])) {
            printf "%s: CHECK-NOT: \"%s\" found at line %d of the output\n", test, text[j], l > "/dev/stderr"
            bad = 1
        }
    if (bad) {
        print "--- output ---" > "/dev/stderr"
        for (l = 1; l <= nout; l++) print out[l] > "/dev/stderr"
        exit 1
    }
}
