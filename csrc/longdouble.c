/* Redis does INCRBYFLOAT/HINCRBYFLOAT arithmetic in C `long double` and prints
 * the result with "%.17Lf" minus trailing zeros. Rust has no 80-bit float, so
 * to return the same digits byte for byte we do exactly that here. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis's string2ld(): 1 on success. */
static int parse_ld(const char *s, size_t len, long double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS + 1];
    char *end;
    if (len == 0 || len >= MAX_LONG_DOUBLE_CHARS) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    long double v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}

/* Redis's ld2string(..., LD_STR_HUMAN). Returns the length written. */
static size_t format_ld_human(long double v, char *buf, size_t cap) {
    int l = snprintf(buf, cap, "%.17Lf", v);
    if (l < 0 || (size_t)l + 1 > cap) return 0;
    if (strchr(buf, '.') != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') { p--; l--; }
        if (*p == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
    return (size_t)l;
}

/* Returns 0 on success (result in out/out_len), 1 if `current` is not a valid
 * float, 2 if `incr` is not a valid float, 3 if the result is NaN or infinite,
 * 4 if the output buffer is too small. `current` may be NULL (treated as 0). */
int russet_incrbyfloat(const char *current, size_t current_len, const char *incr, size_t incr_len,
                       char *out, size_t out_cap, size_t *out_len) {
    long double cur = 0, by;
    if (current != NULL && !parse_ld(current, current_len, &cur)) return 1;
    if (!parse_ld(incr, incr_len, &by)) return 2;
    long double r = cur + by;
    if (isnan(r) || isinf(r)) return 3;
    size_t l = format_ld_human(r, out, out_cap);
    if (l == 0) return 4;
    *out_len = l;
    return 0;
}

/* "%.17g", as Redis 7.0 prints doubles (scores, geo distances). */
size_t russet_format_double(double v, char *out, size_t out_cap) {
    int l = snprintf(out, out_cap, "%.17g", v);
    return l < 0 ? 0 : (size_t)l;
}

/* Redis's seconds timeout argument (BLPOP & co): (long long)ceill(strtold(s) * 1000),
 * rounded up so that a sub-millisecond timeout still expires (and -0.0001 rounds
 * to 0, "forever"), with the result x86 gives for an out-of-range conversion
 * (LLONG_MIN), so a huge or infinite timeout reads as negative exactly as on
 * Redis. Returns 0 if `s` is not a float. */
int russet_timeout_ms(const char *s, size_t len, long long *out) {
    long double v;
    if (!parse_ld(s, len, &v)) return 0;
    v = ceill(v * 1000.0L);
    if (v > -9223372036854775808.0L && v < 9223372036854775808.0L)
        *out = (long long)v;
    else
        *out = (-9223372036854775807LL - 1);
    return 1;
}
