/* Locates and explains a JSON syntax error (cJSON only says roughly where it stopped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe_impl.h"

#define MAX_DEPTH 1000 /* cJSON's CJSON_NESTING_LIMIT */

typedef struct Scan {
    const char *s;
    size_t len, pos;
    char *msg;
    size_t msglen;
    bool failed;
} Scan;

static bool fail(Scan *sc, const char *fmt, const char *found)
{
    if (!sc->failed)
        snprintf(sc->msg, sc->msglen, fmt, found);
    sc->failed = true;
    return false;
}

/* What is at the current position, for "found ..." */
static const char *found(const Scan *sc, char buf[32])
{
    if (sc->pos >= sc->len)
        return "the end of the input";
    unsigned char ch = (unsigned char)sc->s[sc->pos];
    if (ch >= 0x21 && ch < 0x7f)
        snprintf(buf, 32, "'%c'", ch);
    else if (ch == ' ')
        snprintf(buf, 32, "a space");
    else if (ch == '\n' || ch == '\r')
        snprintf(buf, 32, "the end of the line");
    else
        snprintf(buf, 32, "byte 0x%02x", ch);
    return buf;
}

static void skip_ws(Scan *sc)
{
    while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t' || sc->s[sc->pos] == '\n' ||
                                 sc->s[sc->pos] == '\r'))
        sc->pos++;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* \uXXXX at pos (after the backslash-u); returns the code unit or -1. */
static long hex4(Scan *sc)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = sc->pos < sc->len ? hexval(sc->s[sc->pos]) : -1;
        if (h < 0)
            return -1;
        v = v * 16 + h;
        sc->pos++;
    }
    return v;
}

static bool scan_string(Scan *sc)
{
    size_t start = sc->pos++;
    while (sc->pos < sc->len) {
        char ch = sc->s[sc->pos];
        if (ch == '"') {
            sc->pos++;
            return true;
        }
        if (ch != '\\') {
            sc->pos++;
            continue;
        }
        size_t esc = sc->pos++;
        if (sc->pos >= sc->len)
            break;
        ch = sc->s[sc->pos++];
        if (ch == 'u') {
            long u = hex4(sc);
            if (u < 0) {
                sc->pos = esc;
                return fail(sc, "invalid \\u escape: it needs 4 hex digits%s", "");
            }
            if (u >= 0xdc00 && u <= 0xdfff) {
                sc->pos = esc;
                return fail(sc, "invalid \\u escape: unpaired UTF-16 surrogate%s", "");
            }
            if (u >= 0xd800 && u <= 0xdbff) {
                long lo = -1;
                if (sc->pos + 1 < sc->len && sc->s[sc->pos] == '\\' && sc->s[sc->pos + 1] == 'u') {
                    sc->pos += 2;
                    lo = hex4(sc);
                }
                if (lo < 0xdc00 || lo > 0xdfff) {
                    sc->pos = esc;
                    return fail(sc, "invalid \\u escape: unpaired UTF-16 surrogate%s", "");
                }
            }
        } else if (!strchr("\"\\/bfnrt", ch) || ch == 0) {
            sc->pos = esc;
            return fail(sc, "invalid escape in a string%s", "");
        }
    }
    sc->pos = start;
    return fail(sc, "unterminated string: no closing '\"'%s", "");
}

static bool scan_number(Scan *sc)
{
    /* like cJSON: the longest run of number characters, read by strtod */
    char buf[64];
    size_t n = 0;
    while (sc->pos + n < sc->len && n < sizeof buf - 1 && strchr("0123456789+-.eE", sc->s[sc->pos + n]) &&
           sc->s[sc->pos + n])
        n++;
    memcpy(buf, sc->s + sc->pos, n);
    buf[n] = 0;
    char *end;
    strtod(buf, &end);
    if (end == buf)
        return fail(sc, "invalid number%s", "");
    sc->pos += (size_t)(end - buf);
    return true;
}

static bool scan_value(Scan *sc, int depth);

static bool scan_container(Scan *sc, int depth, bool object)
{
    char b[32];
    char close = object ? '}' : ']';
    if (depth >= MAX_DEPTH)
        return fail(sc, "nesting deeper than 1000 levels%s", "");
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
        return true;
    }
    for (bool first = true;; first = false) {
        skip_ws(sc);
        if (object) {
            if (sc->pos >= sc->len || sc->s[sc->pos] != '"') {
                if (!first && sc->pos < sc->len && sc->s[sc->pos] == '}')
                    return fail(sc, "trailing comma before %s", found(sc, b));
                return fail(sc, first ? "expected a key (a string in double quotes) or '}', found %s"
                                      : "expected a key (a string in double quotes), found %s",
                            found(sc, b));
            }
            if (!scan_string(sc))
                return false;
            skip_ws(sc);
            if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
                return fail(sc, "expected ':' after the key, found %s", found(sc, b));
            sc->pos++;
            skip_ws(sc);
        } else if (!first && sc->pos < sc->len && sc->s[sc->pos] == ']') {
            return fail(sc, "trailing comma before %s", found(sc, b));
        }
        if (!scan_value(sc, depth + 1))
            return false;
        skip_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
            sc->pos++;
            continue;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] == close) {
            sc->pos++;
            return true;
        }
        return fail(sc, object ? "expected ',' or '}', found %s" : "expected ',' or ']', found %s", found(sc, b));
    }
}

static bool scan_value(Scan *sc, int depth)
{
    char b[32];
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail(sc, "expected a value, found %s", found(sc, b));
    char ch = sc->s[sc->pos];
    if (ch == '{' || ch == '[')
        return scan_container(sc, depth, ch == '{');
    if (ch == '"')
        return scan_string(sc);
    if (ch == '-' || (ch >= '0' && ch <= '9'))
        return scan_number(sc);
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (sc->len - sc->pos >= n && !memcmp(sc->s + sc->pos, words[i], n)) {
            sc->pos += n;
            return true;
        }
    }
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
        char word[24];
        size_t n = 0;
        while (n < sizeof word - 1 && sc->pos + n < sc->len &&
               ((sc->s[sc->pos + n] >= 'a' && sc->s[sc->pos + n] <= 'z') ||
                (sc->s[sc->pos + n] >= 'A' && sc->s[sc->pos + n] <= 'Z') ||
                (sc->s[sc->pos + n] >= '0' && sc->s[sc->pos + n] <= '9') || sc->s[sc->pos + n] == '_'))
            n++;
        memcpy(word, sc->s + sc->pos, n);
        word[n] = 0;
        return fail(sc, "expected a value, found the word %s; strings need double quotes, literals are true, false "
                        "and null", word);
    }
    if (ch == '\'')
        return fail(sc, "strings need double quotes, found %s", found(sc, b));
    return fail(sc, "expected a value, found %s", found(sc, b));
}

bool fe_json_locate_error(const char *text, size_t len, size_t *off, char *msg, size_t msglen)
{
    Scan sc = {text, len, 0, msg, msglen, false};
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        sc.pos = 3; /* a UTF-8 byte-order mark, as cJSON allows */
    skip_ws(&sc);
    if (sc.pos >= len) {
        snprintf(msg, msglen, "the input is empty");
        *off = sc.pos;
        return true;
    }
    if (scan_value(&sc, 0)) {
        skip_ws(&sc);
        if (sc.pos >= len)
            return false;
        snprintf(msg, msglen, "unexpected text after the model object");
    }
    *off = sc.pos;
    return true;
}
