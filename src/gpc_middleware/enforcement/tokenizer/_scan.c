/* The compiled scanning core of gpc_middleware's tokenizer.
 *
 * It runs the text state's common cases (text.py, TextStates._text) without Python:
 * finding the next "<" that can matter, telling markup from text, skipping comments,
 * reading start tags (the grammar of markup.START_TAG_RE, exactly), applying cached
 * verdicts that keep a tag (and skipping a kept script's or raw-text element's body when
 * its end is in the buffer), skipping plain inline SVG drawings whole (patterns.PLAIN_SVG),
 * and finding marker tokens. Everything else it hands back to
 * the Python tokenizer at the point where it stopped, so the two cores share every rule
 * that is not a hot path and give the same output byte for byte.
 *
 * Safety: every read is bounds-checked against the buffer's length; nothing recurses;
 * the only allocations are a tag's cache key (at most MAX_KEY bytes) and the result
 * tuple. The Python objects it holds (the buffer, the verdict dicts) are borrowed for
 * the duration of one call.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAX_NAMES 64
#define MAX_NAME_LEN 32
#define MAX_MARKERS 16
#define MAX_MARKER_LEN 64
#define MAX_ATTRS 8
#define MAX_ATTR_LEN 16
#define MAX_KEY 1024 /* handler.MAX_CACHED_TAG: longer tags are never cached */

/* What a candidate tag name is (ScanPatterns.interesting_tags) */
enum { K_NONE = 0, K_PLAIN, K_CONTEXT, K_SCRIPT, K_RAW, K_PLAINTEXT };

typedef struct {
    char name[MAX_NAME_LEN];
    Py_ssize_t len;
    int kind;
    int is_void; /* markup.VOID: the start tag is the whole element */
} NameEntry;

/* Verdict actions (handler.py) */
enum { A_KEEP = 0, A_REMOVE = 1, A_CLASSIFY = 3 };
#define MAX_MEMO_TEXT 8192 /* TagDecider caches the decisions of texts up to this long */
#define MAX_CUTS 256       /* removals listed per call: what a call allocates is bounded */

typedef struct {
    PyObject_HEAD
    NameEntry names[MAX_NAMES];
    int nnames;
    unsigned char first[256];        /* how many names start with this byte */
    unsigned char bucket_start[256]; /* where they are listed in by_first */
    unsigned char by_first[MAX_NAMES];
    char voids[MAX_NAMES][MAX_NAME_LEN]; /* markup.VOID */
    Py_ssize_t void_len[MAX_NAMES];
    int nvoid;
    char markers[MAX_MARKERS][MAX_MARKER_LEN];
    Py_ssize_t marker_len[MAX_MARKERS];
    int nmarkers;
    int avx2; /* the CPU has AVX2: next_marker reads 32 bytes at a time */
    /* lower-case attribute names left out of shapes (noise), and those whose network
     * URL's query and fragment are (cut) */
    char noise[MAX_ATTRS][MAX_ATTR_LEN];
    Py_ssize_t noise_len[MAX_ATTRS];
    int nnoise;
    char cut[MAX_ATTRS][MAX_ATTR_LEN];
    Py_ssize_t cut_len[MAX_ATTRS];
    int ncut;
    /* lower-case names of the elements a plain <svg> drawing holds (patterns.PLAIN_SVG) */
    char plain[MAX_NAMES][MAX_NAME_LEN];
    Py_ssize_t plain_len[MAX_NAMES];
    int nplain;
    PyObject *keep_verdict;
    PyObject *action_str;
    PyObject *watch_str;
} Scanner;

static inline int is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
static inline int is_ws_slash_gt(unsigned char c) { return is_ws(c) || c == '/' || c == '>'; }
static inline int is_alpha(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static Py_ssize_t rfind_byte(const unsigned char *b, Py_ssize_t lo, Py_ssize_t hi, unsigned char c) {
    /* last index of c in [lo, hi), or -1 */
    if (hi <= lo) return -1;
#if defined(__GLIBC__)
    const void *r = memrchr(b + lo, c, (size_t)(hi - lo));
    return r == NULL ? -1 : (Py_ssize_t)((const unsigned char *)r - b);
#else
    for (Py_ssize_t i = hi - 1; i >= lo; i--)
        if (b[i] == c) return i;
    return -1;
#endif
}

static Py_ssize_t find_byte(const unsigned char *b, Py_ssize_t lo, Py_ssize_t hi, unsigned char c) {
    if (hi <= lo) return -1;
    const void *r = memchr(b + lo, c, (size_t)(hi - lo));
    return r == NULL ? -1 : (Py_ssize_t)((const unsigned char *)r - b);
}

/* ---------------------------------------------------------------- the tag grammar */

/* One attribute item (markup._ATTR_ITEM) at j; its end, or -1 if none matches. */
static Py_ssize_t attr_item(const unsigned char *b, Py_ssize_t j, Py_ssize_t n) {
    if (j >= n || is_ws_slash_gt(b[j])) return -1;
    Py_ssize_t k = j + 1;
    while (k < n && !is_ws_slash_gt(b[k]) && b[k] != '=') k++;
    /* [ws]*+ = [ws]*+ value */
    Py_ssize_t m = k;
    while (m < n && is_ws(b[m])) m++;
    if (m < n && b[m] == '=') {
        m++;
        while (m < n && is_ws(b[m])) m++;
        if (m < n) {
            unsigned char c = b[m];
            if (c == '"' || c == '\'') {
                Py_ssize_t q = find_byte(b, m + 1, n, c);
                if (q != -1) return q + 1;
            } else if (c == '>') {
                return m; /* (?=>) */
            } else if (!is_ws(c)) {
                m++;
                while (m < n && !is_ws(b[m]) && b[m] != '>') m++;
                return m;
            }
        }
    }
    /* (?=[ws />])(?![ws]*+=) at k */
    if (k < n && is_ws_slash_gt(b[k])) {
        Py_ssize_t w = k;
        while (w < n && is_ws(b[w])) w++;
        if (w < n && b[w] == '=') return -1;
        return k;
    }
    return -1;
}

/* START_TAG_RE (or END_TAG_RE, when p points at "</") matched at p: the end of the tag,
 * or -1. *name_end, *attr_start and *attr_end (group 1's end, group 2) may be NULL. */
static Py_ssize_t match_tag(const unsigned char *b, Py_ssize_t p, Py_ssize_t n, Py_ssize_t *name_end,
                            Py_ssize_t *attr_start, Py_ssize_t *attr_end) {
    Py_ssize_t i = p + 1;
    if (i < n && b[i] == '/') i++;
    if (i >= n || !is_alpha(b[i])) return -1;
    i++;
    while (i < n && !is_ws_slash_gt(b[i])) i++;
    if (name_end) *name_end = i;
    if (attr_start) *attr_start = i;
    for (;;) {
        Py_ssize_t j = i;
        while (j < n && (is_ws(b[j]) || b[j] == '/')) j++;
        Py_ssize_t e = attr_item(b, j, n);
        if (e < 0) break;
        i = e;
    }
    if (attr_end) *attr_end = i;
    while (i < n && (is_ws(b[i]) || b[i] == '/')) i++;
    if (i < n && b[i] == '>') return i + 1;
    return -1;
}

/* ---------------------------------------------------------------- searches */

/* First "--" "!"? ">" at or after i (COMMENT_END_RE): the end of the match, or -1. */
static Py_ssize_t comment_end(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    for (;;) {
        Py_ssize_t j = find_byte(b, i, n, '-');
        if (j == -1 || j + 2 >= n) return -1;
        if (b[j + 1] == '-') {
            if (b[j + 2] == '>') return j + 3;
            if (b[j + 2] == '!' && j + 3 < n && b[j + 3] == '>') return j + 4;
        }
        i = j + 1;
    }
}

/* "</" + name (any case) + [ws/>] at or after i: the index of "<", or -1. */
static Py_ssize_t end_tag_of(const unsigned char *b, Py_ssize_t i, Py_ssize_t n, const char *name,
                             Py_ssize_t len) {
    for (;;) {
        Py_ssize_t j = find_byte(b, i, n, '<');
        if (j == -1 || j + 2 + len >= n) return -1;
        if (b[j + 1] == '/') {
            Py_ssize_t k = 0;
            while (k < len && lower(b[j + 2 + k]) == (unsigned char)name[k]) k++;
            if (k == len && is_ws_slash_gt(b[j + 2 + len])) return j;
        }
        i = j + 1;
    }
}

/* SCRIPT_RES[0]: the first "<!--" or "</script[ws/>]" at or after i; its index, or -1;
 * *is_end says which. */
static Py_ssize_t script_data_stop(const unsigned char *b, Py_ssize_t i, Py_ssize_t n, int *is_end) {
    for (;;) {
        Py_ssize_t j = find_byte(b, i, n, '<');
        if (j == -1) return -1;
        if (j + 3 < n && b[j + 1] == '!' && b[j + 2] == '-' && b[j + 3] == '-') {
            *is_end = 0;
            return j;
        }
        if (j + 8 < n && b[j + 1] == '/') {
            static const char s[] = "script";
            Py_ssize_t k = 0;
            while (k < 6 && lower(b[j + 2 + k]) == (unsigned char)s[k]) k++;
            if (k == 6 && is_ws_slash_gt(b[j + 8])) {
                *is_end = 1;
                return j;
            }
        }
        i = j + 1;
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
/* next_marker's block loop, 32 bytes at a time; returns where it stopped (< n - 31 -
 * longest + 1 is left to the caller) or the index of a token. *found says which. */
__attribute__((target("avx2"))) static Py_ssize_t markers_avx2(const Scanner *s, const unsigned char *b,
                                                                Py_ssize_t i, Py_ssize_t n, Py_ssize_t longest,
                                                                int *found) {
    __m256i firsts[MAX_MARKERS], lasts[MAX_MARKERS];
    for (int k = 0; k < s->nmarkers; k++) {
        firsts[k] = _mm256_set1_epi8((char)s->markers[k][0]);
        lasts[k] = _mm256_set1_epi8((char)s->markers[k][s->marker_len[k] - 1]);
    }
    *found = 0;
    while (i + 32 + longest - 1 <= n) {
        __m256i block = _mm256_loadu_si256((const __m256i *)(b + i));
        unsigned hits[MAX_MARKERS];
        unsigned any = 0;
        for (int k = 0; k < s->nmarkers; k++) {
            __m256i tail = _mm256_loadu_si256((const __m256i *)(b + i + s->marker_len[k] - 1));
            __m256i both = _mm256_and_si256(_mm256_cmpeq_epi8(block, firsts[k]), _mm256_cmpeq_epi8(tail, lasts[k]));
            hits[k] = (unsigned)_mm256_movemask_epi8(both);
            any |= hits[k];
        }
        while (any) {
            int bit = __builtin_ctz(any);
            for (int k = 0; k < s->nmarkers; k++) {
                if ((hits[k] >> bit) & 1u) {
                    if (memcmp(b + i + bit, s->markers[k], (size_t)s->marker_len[k]) == 0) {
                        *found = 1;
                        return i + bit;
                    }
                }
            }
            any &= any - 1;
        }
        i += 32;
    }
    return i;
}
#endif

/* The first marker token starting in [i, n) (complete within the buffer); its index, or n. */
static Py_ssize_t next_marker(const Scanner *s, const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    if (s->nmarkers == 0) return n;
#if defined(HAVE_AVX2_PATH)
    if (s->avx2) {
        Py_ssize_t longest = 0;
        for (int k = 0; k < s->nmarkers; k++)
            if (s->marker_len[k] > longest) longest = s->marker_len[k];
        int found;
        i = markers_avx2(s, b, i, n, longest, &found);
        if (found) return i;
    }
#endif
#if defined(__SSE2__)
    /* Per token, bytes equal to its first and its last byte at the right distance
     * (W. Mula's SIMD substring search), then a memcmp where both match. */
    Py_ssize_t longest = 0;
    for (int k = 0; k < s->nmarkers; k++)
        if (s->marker_len[k] > longest) longest = s->marker_len[k];
    __m128i firsts[MAX_MARKERS], lasts[MAX_MARKERS];
    for (int k = 0; k < s->nmarkers; k++) {
        firsts[k] = _mm_set1_epi8((char)s->markers[k][0]);
        lasts[k] = _mm_set1_epi8((char)s->markers[k][s->marker_len[k] - 1]);
    }
    while (i + 16 + longest - 1 <= n) {
        __m128i block = _mm_loadu_si128((const __m128i *)(b + i));
        unsigned hits[MAX_MARKERS];
        unsigned any = 0;
        for (int k = 0; k < s->nmarkers; k++) {
            __m128i tail = _mm_loadu_si128((const __m128i *)(b + i + s->marker_len[k] - 1));
            __m128i both = _mm_and_si128(_mm_cmpeq_epi8(block, firsts[k]), _mm_cmpeq_epi8(tail, lasts[k]));
            hits[k] = (unsigned)_mm_movemask_epi8(both);
            any |= hits[k];
        }
        while (any) {
            int bit = __builtin_ctz(any);
            for (int k = 0; k < s->nmarkers; k++) {
                if ((hits[k] >> bit) & 1u) {
                    if (memcmp(b + i + bit, s->markers[k], (size_t)s->marker_len[k]) == 0) return i + bit;
                }
            }
            any &= any - 1;
        }
        i += 16;
    }
#endif
    for (; i < n; i++) {
        for (int k = 0; k < s->nmarkers; k++) {
            Py_ssize_t len = s->marker_len[k];
            if (i + len <= n && b[i] == (unsigned char)s->markers[k][0] &&
                memcmp(b + i, s->markers[k], (size_t)len) == 0)
                return i;
        }
    }
    return n;
}

/* The entry of the (lower-cased) name b[i:j], NULL if it is not interesting. */
static const NameEntry *name_entry(const Scanner *s, const unsigned char *b, Py_ssize_t i, Py_ssize_t j) {
    Py_ssize_t len = j - i;
    if (len <= 0 || len >= MAX_NAME_LEN) return NULL;
    char lowered[MAX_NAME_LEN];
    for (Py_ssize_t k = 0; k < len; k++) {
        if (b[i + k] >= 0x80) return NULL; /* no interesting name has one */
        lowered[k] = (char)lower(b[i + k]);
    }
    for (int e = 0; e < s->nnames; e++) {
        if (s->names[e].len == len && memcmp(s->names[e].name, lowered, (size_t)len) == 0)
            return &s->names[e];
    }
    return NULL;
}

/* Whether "<" at q starts a candidate (ScanPatterns.candidate_re, outside noscript/template). */
/* MIXED_CASE_NAME at k: [a-z][^\t\n\f\r />A-Z]*+[A-Z] */
static int mixed_case_name(const unsigned char *b, Py_ssize_t k, Py_ssize_t n) {
    if (k >= n || !(b[k] >= 'a' && b[k] <= 'z')) return 0;
    for (k++; k < n; k++) {
        unsigned char d = b[k];
        if (d >= 'A' && d <= 'Z') return 1;
        if (is_ws_slash_gt(d)) return 0;
    }
    return 0;
}

/* Whether "<" at q starts a candidate: ScanPatterns.candidate_re, or candidate_ctx_re in
 * <noscript>/<template> content (ctx), which adds the end tags of those two and the end
 * tags with an upper-case letter. */
static int is_candidate(const Scanner *s, const unsigned char *b, Py_ssize_t q, Py_ssize_t n, int ctx) {
    if (q + 1 >= n) return 0;
    unsigned char c = b[q + 1];
    if (c == '!' || c == '?' || (c >= 'A' && c <= 'Z')) return 1;
    if (ctx && c == '/') {
        if (q + 2 >= n) return 0;
        unsigned char d = b[q + 2];
        if (d >= 'A' && d <= 'Z') return 1;
        if (q + 10 <= n && (memcmp(b + q + 2, "noscript", 8) == 0 || memcmp(b + q + 2, "template", 8) == 0))
            return 1;
        return mixed_case_name(b, q + 2, n);
    }
    if (!(c >= 'a' && c <= 'z')) return 0;
    if (s->first[c]) {
        for (int k = s->bucket_start[c], stop = k + s->first[c]; k < stop; k++) {
            const NameEntry *ne = &s->names[s->by_first[k]];
            Py_ssize_t end = q + 1 + ne->len;
            if (end < n && memcmp(b + q + 1, ne->name, (size_t)ne->len) == 0 && is_ws_slash_gt(b[end]))
                return 1;
        }
    }
    return mixed_case_name(b, q + 1, n);
}

static Py_ssize_t next_candidate(const Scanner *s, const unsigned char *b, Py_ssize_t i, Py_ssize_t n, int ctx) {
    for (;;) {
        Py_ssize_t q = find_byte(b, i, n, '<');
        if (q == -1) return n;
        if (is_candidate(s, b, q, n, ctx)) return q;
        i = q + 1;
    }
}

/* TextStates._containing's shortcut: 0 if x is surely in text context (scanning text from
 * pos, which is in text context), 1 if the Python tokenizer must tell. */
static int unsure_context(const unsigned char *b, Py_ssize_t pos, Py_ssize_t x) {
    Py_ssize_t g = rfind_byte(b, pos, x, '>');
    if (g != -1) {
        for (int quote = 0; quote < 2; quote++) {
            Py_ssize_t d = rfind_byte(b, pos, g, quote ? '\'' : '"');
            if (d > pos) {
                unsigned char before = b[d - 1];
                if (before == '=' || is_ws(before)) {
                    Py_ssize_t j = d - 1;
                    while (j >= pos && is_ws(b[j])) j--;
                    if (j >= pos && b[j] == '=') return 1;
                }
            }
        }
        pos = g + 1;
    }
    /* a "<" before x that opens a construct (OPENER_RE: "<" then a letter or "/") */
    for (Py_ssize_t i = pos;;) {
        Py_ssize_t q = find_byte(b, i, x, '<');
        if (q == -1) return 0;
        if (q + 1 < x && (is_alpha(b[q + 1]) || b[q + 1] == '/')) return 1;
        i = q + 1;
    }
}

/* ---------------------------------------------------------------- cache keys */

/* Whether the attribute name b[0:len] (any case) is one of names. */
static int in_names(const char names[][MAX_ATTR_LEN], const Py_ssize_t *lens, int count, const unsigned char *b,
                    Py_ssize_t len) {
    for (int k = 0; k < count; k++) {
        if (lens[k] != len) continue;
        Py_ssize_t c = 0;
        while (c < len && lower(b[c]) == (unsigned char)names[k][c]) c++;
        if (c == len) return 1;
    }
    return 0;
}

static int read_names(PyObject *tuple, char names[][MAX_ATTR_LEN], Py_ssize_t *lens, int *count) {
    Py_ssize_t size = PyTuple_GET_SIZE(tuple);
    if (size > MAX_ATTRS) {
        PyErr_SetString(PyExc_ValueError, "too many attribute names");
        return -1;
    }
    *count = 0;
    for (Py_ssize_t k = 0; k < size; k++) {
        PyObject *item = PyTuple_GET_ITEM(tuple, k);
        if (!PyBytes_Check(item) || PyBytes_GET_SIZE(item) < 1 || PyBytes_GET_SIZE(item) >= MAX_ATTR_LEN) {
            PyErr_SetString(PyExc_ValueError, "attribute names: bytes of 1 to 15 bytes");
            return -1;
        }
        memcpy(names[k], PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item));
        lens[k] = PyBytes_GET_SIZE(item);
        (*count)++;
    }
    return 0;
}

/* The tag's shape: its bytes without the attributes that never decide (nonce) and with
 * the query and fragment of network URLs in src/href left out (the catalog decides by host
 * and path). Written to out (MAX_KEY bytes); its length, or -1 if the tag is too long. */
static Py_ssize_t shape_of(const Scanner *s, const unsigned char *b, Py_ssize_t p, Py_ssize_t end,
                           Py_ssize_t attr_start, Py_ssize_t attr_end, unsigned char *out) {
    if (end - p > MAX_KEY) return -1;
    Py_ssize_t o = 0;
    memcpy(out, b + p, (size_t)(attr_start - p));
    o = attr_start - p;
    Py_ssize_t i = attr_start;
    while (i < attr_end) {
        Py_ssize_t j = i;
        while (j < attr_end && (is_ws(b[j]) || b[j] == '/')) j++;
        if (j >= attr_end) break;
        Py_ssize_t e = attr_item(b, j, end);
        if (e < 0 || e > attr_end) return -1; /* cannot happen for a matched tag */
        Py_ssize_t k = j + 1;
        while (k < e && !is_ws_slash_gt(b[k]) && b[k] != '=') k++;
        int noise = in_names(s->noise, s->noise_len, s->nnoise, b + j, k - j);
        int cut = !noise && in_names(s->cut, s->cut_len, s->ncut, b + j, k - j);
        if (noise) {
            i = e;
            continue;
        }
        Py_ssize_t stop = e;
        if (cut) {
            /* the value: after "=" and whitespace, quoted or not */
            Py_ssize_t v = k;
            while (v < e && b[v] != '=') v++;
            if (v < e) {
                v++;
                while (v < e && is_ws(b[v])) v++;
                /* quoted values only: an unquoted one may end in the "/" of "/>" */
                Py_ssize_t v0 = e, v1 = e;
                if (v < e && (b[v] == '"' || b[v] == '\'')) {
                    v0 = v + 1;
                    v1 = e - 1;
                }
                int network = 0;
                if (v1 - v0 >= 2 && b[v0] == '/' && b[v0 + 1] == '/') network = 1;
                if (v1 - v0 >= 7 && memcmp(b + v0, "http://", 7) == 0) network = 1;
                if (v1 - v0 >= 8 && memcmp(b + v0, "https://", 8) == 0) network = 1;
                if (network) {
                    for (Py_ssize_t c = v0; c < v1; c++) {
                        if (b[c] == '?' || b[c] == '#') {
                            memcpy(out + o, b + i, (size_t)(c - i));
                            o += c - i;
                            out[o++] = b[c]; /* "?" or "#": a query, not nothing */
                            if (v1 < e) out[o++] = b[v1];
                            i = e;
                            stop = -1;
                            break;
                        }
                    }
                }
            }
        }
        if (stop != -1) {
            memcpy(out + o, b + i, (size_t)(e - i));
            o += e - i;
            i = e;
        }
    }
    memcpy(out + o, b + attr_end, (size_t)(end - attr_end));
    o += end - attr_end;
    return o;
}

/* ---------------------------------------------------------------- verdicts */

/* The verdict's action, or -1 on error. */
static long action_of(const Scanner *s, PyObject *verdict) {
    if (verdict == s->keep_verdict) return A_KEEP;
    PyObject *action = PyObject_GetAttr(verdict, s->action_str);
    if (action == NULL) return -1;
    long a = PyLong_AsLong(action);
    Py_DECREF(action);
    return (a == -1 && PyErr_Occurred()) ? -1 : a;
}

/* The verdict's watch flag (0 or 1), or -1 on error. */
static int watched(const Scanner *s, PyObject *verdict) {
    if (verdict == s->keep_verdict) return 0;
    PyObject *watch = PyObject_GetAttr(verdict, s->watch_str);
    if (watch == NULL) return -1;
    int w = PyObject_IsTrue(watch);
    Py_DECREF(watch);
    return w;
}

/* ---------------------------------------------------------------- Scanner methods */

/* Where the element whose start tag ends at `end` ends, when it is all in the buffer and
 * its end is found the simple way (else -1): a script's "</script" with no "<!--" before
 * it; a raw-text element's end tag; any other element's end tag when it is the first
 * markup inside (HeldStates reads anything else). name: the lower-case tag name. */
static Py_ssize_t element_end(int kind, const char *name, Py_ssize_t len, const unsigned char *b, Py_ssize_t end,
                              Py_ssize_t n, Py_ssize_t *body_end) {
    Py_ssize_t e;
    if (kind == K_SCRIPT) {
        int is_end = 0;
        e = script_data_stop(b, end, n, &is_end);
        if (e == -1 || !is_end) return -1;
    } else if (kind == K_RAW) {
        e = end_tag_of(b, end, n, name, len);
        if (e == -1) return -1;
    } else {
        /* the first "<" that HELD_RE matches: "<!", "<?", "<" or "</" then a letter */
        Py_ssize_t i = end;
        for (;;) {
            e = find_byte(b, i, n, '<');
            if (e == -1 || e + 1 >= n) return -1;
            unsigned char c = b[e + 1];
            if (c == '!' || c == '?' || is_alpha(c)) return -1;
            if (c == '/') {
                if (e + 2 >= n) return -1;
                if (is_alpha(b[e + 2])) break;
            }
            i = e + 1;
        }
        Py_ssize_t k = 0;
        while (k < len && e + 2 + k < n && lower(b[e + 2 + k]) == (unsigned char)name[k]) k++;
        if (k != len || e + 2 + k >= n || !is_ws_slash_gt(b[e + 2 + k])) return -1;
    }
    if (body_end) *body_end = e;
    return match_tag(b, e, n, NULL, NULL, NULL);
}

/* Adds a removal to cuts: (start, end, tag end, name end, attributes end, verdict). */
static int add_cut(PyObject *cuts, Py_ssize_t start, Py_ssize_t end, Py_ssize_t tag_end, Py_ssize_t name_end,
                   Py_ssize_t attr_end, PyObject *verdict) {
    PyObject *item = Py_BuildValue("(nnnnnO)", start, end, tag_end, name_end, attr_end, verdict);
    if (item == NULL) return -1;
    int r = PyList_Append(cuts, item);
    Py_DECREF(item);
    return r;
}

/* What one text() call was given, for apply_cached. */
typedef struct {
    PyObject *verdicts, *shapes, *texts, *text_verdict;
    int prefix_pending;
    Py_ssize_t breakout;
} Call;

static int is_void_name(const Scanner *s, const char *name, Py_ssize_t len) {
    for (int k = 0; k < s->nvoid; k++)
        if (s->void_len[k] == len && memcmp(s->voids[k], name, (size_t)len) == 0) return 1;
    return 0;
}

/* Carries out a cached verdict (held: a strong reference) for the start tag at p (to end),
 * when it needs nothing more; see apply_cached. */
static int carry_out(const Scanner *s, const Call *c, const unsigned char *b, Py_ssize_t n, Py_ssize_t p,
                     Py_ssize_t end, Py_ssize_t name_end, Py_ssize_t attr_end, const NameEntry *ne,
                     PyObject *cuts, Py_ssize_t *next, PyObject *verdict) {
    /* the lower-case name, for the end tag */
    char name[MAX_NAME_LEN];
    Py_ssize_t len = name_end - (p + 1);
    int kind = ne ? ne->kind : K_PLAIN;
    int is_void = 0;
    if (len < MAX_NAME_LEN) {
        for (Py_ssize_t k = 0; k < len; k++) name[k] = (char)lower(b[p + 1 + k]);
        is_void = ne ? ne->is_void : is_void_name(s, name, len);
    } else if (kind != K_PLAIN) {
        return 0;
    } else {
        len = -1; /* no end tag will match: the Python tokenizer reads it */
    }
    long action = action_of(s, verdict);
    if (action < 0) return -1;
    int watch = watched(s, verdict);
    if (watch < 0) return -1;
    if (action == A_KEEP && !(c->prefix_pending && watch)) {
        if (kind == K_SCRIPT || kind == K_RAW) {
            Py_ssize_t et = element_end(kind, name, len, b, end, n, NULL);
            if (et < 0) return 0;
            *next = et;
        } else {
            *next = end;
        }
        return 1;
    }
    if (p == c->breakout) return 0;
    if (action == A_REMOVE && !(c->prefix_pending && watch)) {
        if (len < 0) return 0;
        Py_ssize_t et = is_void ? end : element_end(kind, name, len, b, end, n, NULL);
        if (et < 0) return 0;
        if (add_cut(cuts, p, et, end, name_end, attr_end, verdict) < 0) return -1;
        *next = et;
        return 1;
    }
    if (verdict == c->text_verdict && !c->prefix_pending && c->texts != Py_None && kind == K_SCRIPT) {
        /* an inline script whose text decides: by the memo, when the text is in it */
        Py_ssize_t body_end;
        Py_ssize_t et = element_end(kind, name, len, b, end, n, &body_end);
        if (et < 0 || body_end - end > MAX_MEMO_TEXT) return 0;
        PyObject *text = PyBytes_FromStringAndSize((const char *)b + end, body_end - end);
        if (text == NULL) return -1;
        PyObject *decided = PyDict_GetItemWithError(c->texts, text);
        Py_DECREF(text);
        if (decided == NULL) return PyErr_Occurred() ? -1 : 0;
        Py_INCREF(decided);
        long a = action_of(s, decided);
        int r = a < 0 ? -1 : 1;
        if (a == A_REMOVE) {
            if (add_cut(cuts, p, et, end, name_end, attr_end, decided) < 0) r = -1;
        } else if (a != A_KEEP && a >= 0) {
            r = 0;
        }
        Py_DECREF(decided);
        if (r == 1) *next = et;
        return r;
    }
    return 0;
}

/* The start tag at p (to end), if a verdict is cached for it (by its bytes, else by its
 * shape) that needs nothing more: carry it out. ne: the candidate's name entry, or NULL
 * for a tag holding a marker (a marked element if a verdict is cached for it). Returns 1
 * with *next where text goes on (a removal added to cuts), 0 if the Python tokenizer must
 * act (*shaped: a new reference to the verdict found by the tag's shape, or NULL), -1 on
 * error. */
static int apply_cached(const Scanner *s, const Call *c, const unsigned char *b, Py_ssize_t n, Py_ssize_t p,
                        Py_ssize_t end, Py_ssize_t name_end, Py_ssize_t attr_start, Py_ssize_t attr_end,
                        const NameEntry *ne, PyObject *cuts, Py_ssize_t *next, PyObject **shaped) {
    unsigned char key[MAX_KEY];
    int by_shape = 0;
    PyObject *raw = PyBytes_FromStringAndSize((const char *)b + p, end - p);
    if (raw == NULL) return -1;
    PyObject *verdict = PyDict_GetItemWithError(c->verdicts, raw); /* borrowed */
    Py_DECREF(raw);
    if (verdict == NULL && PyErr_Occurred()) return -1;
    if (verdict == NULL && c->shapes != Py_None) {
        Py_ssize_t klen = shape_of(s, b, p, end, attr_start, attr_end, key);
        if (klen >= 0) {
            PyObject *k = PyBytes_FromStringAndSize((const char *)key, klen);
            if (k == NULL) return -1;
            verdict = PyDict_GetItemWithError(c->shapes, k);
            Py_DECREF(k);
            if (verdict == NULL && PyErr_Occurred()) return -1;
            by_shape = verdict != NULL;
        }
    }
    if (verdict == NULL) return 0;
    Py_INCREF(verdict); /* held while its attributes are read */
    int r = carry_out(s, c, b, n, p, end, name_end, attr_end, ne, cuts, next, verdict);
    if (r == 0 && by_shape) {
        *shaped = verdict; /* handed over */
    } else {
        Py_DECREF(verdict);
    }
    return r;
}

static PyObject *result(Py_ssize_t pos, Py_ssize_t p, Py_ssize_t t, PyObject *verdict, PyObject *cuts) {
    PyObject *r = Py_BuildValue("(nnnOO)", pos, p, t, verdict ? verdict : Py_None, cuts);
    Py_DECREF(cuts);
    return r;
}

/* ---------------------------------------------------------------- plain SVG drawings
 *
 * ScanPatterns.plain_svg_re, as a parser: an <svg> element that holds only text and
 * the plain drawing elements, <title>/<desc> holding only text; no comment, CDATA or
 * nested <svg>; no "<" in an attribute value; no on* attribute; no href but "#...".
 * Read tag by tag as foreign content it would change nothing, so it is kept whole.
 * As strict as the regex or stricter: what it refuses goes to the Python tokenizer. */

/* Whether b[i:j] is, case-insensitively, the lower-case word w of length len. */
static int word_is(const unsigned char *b, Py_ssize_t i, Py_ssize_t j, const char *w, Py_ssize_t len) {
    if (j - i != len) return 0;
    for (Py_ssize_t k = 0; k < len; k++)
        if (lower(b[i + k]) != (unsigned char)w[k]) return 0;
    return 1;
}

static int plain_name(const Scanner *s, const unsigned char *b, Py_ssize_t i, Py_ssize_t j) {
    for (int e = 0; e < s->nplain; e++)
        if (word_is(b, i, j, s->plain[e], s->plain_len[e])) return 1;
    return 0;
}

/* The attributes of a plain element from i (just after its name): where the "/" or ">"
 * that ends the tag is, after the attributes and the white space after them; -1 if an
 * attribute is not plain or the tag does not end. */
static Py_ssize_t plain_attrs(const unsigned char *b, Py_ssize_t i, Py_ssize_t n) {
    for (;;) {
        Py_ssize_t j = i;
        while (j < n && is_ws(b[j])) j++;
        if (j >= n) return -1;
        if (b[j] == '>' || b[j] == '/') return j;
        if (j == i) return -1; /* an attribute follows white space */
        Py_ssize_t k = j;
        while (k < n && !is_ws(b[k]) && b[k] != '/' && b[k] != '>' && b[k] != '<' && b[k] != '"' &&
               b[k] != '\'' && b[k] != '=')
            k++;
        if (k == j || k >= n) return -1;
        if (lower(b[j]) == 'o' && k - j >= 2 && lower(b[j + 1]) == 'n') return -1; /* a handler */
        int href = word_is(b, j, k, "href", 4) || word_is(b, j, k, "xlink:href", 10);
        Py_ssize_t m = k;
        while (m < n && is_ws(b[m])) m++;
        if (m < n && b[m] == '=') {
            m++;
            while (m < n && is_ws(b[m])) m++;
            if (m >= n) return -1;
            unsigned char q = b[m];
            if (q == '"' || q == '\'') {
                Py_ssize_t close = find_byte(b, m + 1, n, q);
                if (close == -1 || find_byte(b, m + 1, close, '<') != -1) return -1;
                if (href && (close == m + 1 || b[m + 1] != '#')) return -1;
                i = close + 1;
            } else {
                if (href) return -1; /* a fragment, quoted, or not plain */
                Py_ssize_t v = m;
                while (v < n && !is_ws(b[v]) && b[v] != '>' && b[v] != '"' && b[v] != '\'' && b[v] != '<' &&
                       b[v] != '=' && b[v] != '`')
                    v++;
                if (v == m) return -1;
                i = v;
            }
        } else {
            if (href) return -1;
            i = k;
        }
    }
}

/* The end of the plain <svg> element whose start tag ends at end (its name at name_end),
 * or -1 (not plain, or its end is not in the buffer yet). */
static Py_ssize_t plain_svg_end(const Scanner *s, const unsigned char *b, Py_ssize_t name_end, Py_ssize_t end,
                                Py_ssize_t n) {
    if (s->nplain == 0) return -1;
    Py_ssize_t a = plain_attrs(b, name_end, n);
    if (a < 0 || b[a] != '>' || a + 1 != end) return -1; /* (not <svg/>) */
    Py_ssize_t i = end;
    for (;;) {
        Py_ssize_t j = find_byte(b, i, n, '<');
        if (j == -1 || j + 1 >= n) return -1;
        if (b[j + 1] == '/') {
            Py_ssize_t k = j + 2;
            while (k < n && !is_ws(b[k]) && b[k] != '>' && b[k] != '/') k++;
            Py_ssize_t m = k;
            while (m < n && is_ws(b[m])) m++;
            if (m >= n || b[m] != '>') return -1;
            if (word_is(b, j + 2, k, "svg", 3)) return m + 1;
            if (!plain_name(s, b, j + 2, k)) return -1;
            i = m + 1;
            continue;
        }
        if (!is_alpha(b[j + 1])) return -1; /* a comment, CDATA, "<?", a "<" of text */
        Py_ssize_t k = j + 1;
        while (k < n && !is_ws_slash_gt(b[k])) k++;
        int text_only = word_is(b, j + 1, k, "title", 5) || word_is(b, j + 1, k, "desc", 4);
        if (!text_only && !plain_name(s, b, j + 1, k)) return -1;
        Py_ssize_t a2 = plain_attrs(b, k, n);
        if (a2 < 0) return -1;
        if (b[a2] == '/') {
            if (text_only || a2 + 1 >= n || b[a2 + 1] != '>') return -1;
            i = a2 + 2;
            continue;
        }
        i = a2 + 1;
        if (text_only) { /* text, then </title> or </desc> */
            Py_ssize_t c = find_byte(b, i, n, '<');
            if (c == -1 || c + 1 >= n || b[c + 1] != '/') return -1;
            Py_ssize_t e = c + 2;
            while (e < n && !is_ws(b[e]) && b[e] != '>' && b[e] != '/') e++;
            if (!word_is(b, c + 2, e, "title", 5) && !word_is(b, c + 2, e, "desc", 4)) return -1;
            while (e < n && is_ws(b[e])) e++;
            if (e >= n || b[e] != '>') return -1;
            i = e + 1;
        }
    }
}

#define STOP(verdict) return result(pos, p, t, (verdict), cuts)
#define FAIL                                                                                                   \
    do {                                                                                                       \
        Py_DECREF(cuts);                                                                                       \
        return NULL;                                                                                           \
    } while (0)

/* text(buf, pos, t, verdicts, shapes, texts, text_verdict, prefix_pending, breakout, ctx)
 *   -> (pos, p, t, verdict, cuts)
 *
 * Scans text from pos (in text context) as TextStates._text does, handling in place the
 * comments, the non-candidate tags with no marker, the candidates whose cached verdict
 * keeps them, and the removals that need no more than a cached verdict (a void element,
 * an element whose end is found the simple way, an inline script whose verdict is
 * text_verdict and whose text's decision is cached in texts): those are listed in cuts,
 * in order, as (start, end, tag end, name end, attributes end, verdict), for the caller
 * to drop and report. Stops at the first thing the Python tokenizer must do; returns pos
 * (where text scanning stands), p (the candidate "<" to handle; len(buf): none; -1:
 * MAX_CUTS removals listed, call again once they are carried out), t (the first marker
 * token at or after pos, or len(buf); t < p: handle the marker first) and the verdict
 * found for p by its shape (or None).
 *
 * t given: a known marker position at or after pos, or -1. ctx: in <noscript> or
 * <template> content, where their end tags (and end tags with an upper-case letter) are
 * the Python tokenizer's too. breakout: the buffer index of a start tag that left foreign
 * content (a removal there is the Python tokenizer's). */
static PyObject *Scanner_text(Scanner *s, PyObject *args) {
    PyObject *bufobj, *verdicts, *shapes, *texts, *text_verdict;
    Py_ssize_t pos, t, breakout;
    int prefix_pending, ctx;
    if (!PyArg_ParseTuple(args, "O!nnO!OOOpnp", &PyBytes_Type, &bufobj, &pos, &t, &PyDict_Type, &verdicts, &shapes,
                          &texts, &text_verdict, &prefix_pending, &breakout, &ctx))
        return NULL;
    if ((shapes != Py_None && !PyDict_Check(shapes)) || (texts != Py_None && !PyDict_Check(texts))) {
        PyErr_SetString(PyExc_TypeError, "shapes and texts must be dicts or None");
        return NULL;
    }
    if (s->action_str == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner.__init__ was not called");
        return NULL;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bufobj);
    Py_ssize_t n = PyBytes_GET_SIZE(bufobj);
    if (pos < 0 || pos > n) {
        PyErr_SetString(PyExc_ValueError, "pos out of range");
        return NULL;
    }
    Call call = {verdicts, shapes, texts, text_verdict, prefix_pending, breakout};
    PyObject *cuts = PyList_New(0);
    if (cuts == NULL) return NULL;
    if (t < pos || t > n) t = next_marker(s, b, pos, n);
    for (;;) {
        Py_ssize_t p;
        if (PyList_GET_SIZE(cuts) >= MAX_CUTS) {
            p = -1; /* call again: the removals so far first */
            STOP(NULL);
        }
        p = next_candidate(s, b, pos, n, ctx);
        if (t < p) {
            if (t < pos) {
                t = next_marker(s, b, pos, n);
                continue;
            }
            /* TextStates._marker_at: the tag the marker is in, if any */
            Py_ssize_t q = rfind_byte(b, pos, t, '<');
            if (q == -1) {
                pos = t + 1;
                continue;
            }
            if (b[q + 1] == '/' || unsure_context(b, pos, q)) STOP(NULL);
            Py_ssize_t name_end, attr_start, attr_end;
            Py_ssize_t end = match_tag(b, q, n, &name_end, &attr_start, &attr_end);
            if (end < 0) STOP(NULL);
            if (end <= t) {
                pos = t + 1;
                continue;
            }
            const NameEntry *ne = name_entry(s, b, q + 1, name_end);
            if (ne != NULL) {
                pos = q; /* a candidate: read as one */
                continue;
            }
            Py_ssize_t next;
            PyObject *shaped = NULL;
            int r = apply_cached(s, &call, b, n, q, end, name_end, attr_start, attr_end, NULL, cuts, &next, &shaped);
            Py_XDECREF(shaped); /* the Python tokenizer reads a marked element afresh */
            if (r < 0) FAIL;
            if (r == 0) STOP(NULL);
            pos = next;
            continue;
        }
        if (p >= n) {
            p = n;
            STOP(NULL);
        }
        if (unsure_context(b, pos, p)) STOP(NULL);
        unsigned char second = b[p + 1];
        if (second == '!') {
            if (p + 3 < n && b[p + 2] == '-' && b[p + 3] == '-') {
                Py_ssize_t e = comment_end(b, p + 2, n);
                if (e != -1) {
                    pos = e;
                    continue;
                }
            }
            STOP(NULL);
        }
        if (second == '?' || second == '/') STOP(NULL); /* "<?", an end tag (in ctx) */
        Py_ssize_t name_end, attr_start, attr_end;
        Py_ssize_t end = match_tag(b, p, n, &name_end, &attr_start, &attr_end);
        if (end < 0) STOP(NULL);
        const NameEntry *ne = name_entry(s, b, p + 1, name_end);
        if (ne == NULL && t >= end) {
            pos = end; /* an upper-case tag without a marker: ordinary */
            continue;
        }
        if (ne != NULL && ne->kind == K_CONTEXT && word_is(b, p + 1, name_end, "svg", 3)) {
            Py_ssize_t e = plain_svg_end(s, b, name_end, end, n);
            if (e != -1 && t >= e) { /* a plain drawing, no marker in it: kept whole */
                pos = e;
                continue;
            }
        }
        if (ne != NULL && (ne->kind == K_CONTEXT || ne->kind == K_PLAINTEXT)) STOP(NULL);
        Py_ssize_t next;
        PyObject *shaped = NULL;
        int r = apply_cached(s, &call, b, n, p, end, name_end, attr_start, attr_end, ne, cuts, &next, &shaped);
        if (r < 0) {
            Py_XDECREF(shaped);
            FAIL;
        }
        if (r == 0) {
            PyObject *out = result(pos, p, t, shaped, cuts);
            Py_XDECREF(shaped);
            return out;
        }
        pos = next;
    }
}

#undef STOP
#undef FAIL

/* marker(buf, pos, limit) -> the first marker token in [pos, limit), else limit */
static PyObject *Scanner_marker(Scanner *s, PyObject *args) {
    PyObject *bufobj;
    Py_ssize_t pos, limit;
    if (!PyArg_ParseTuple(args, "O!nn", &PyBytes_Type, &bufobj, &pos, &limit)) return NULL;
    Py_ssize_t n = PyBytes_GET_SIZE(bufobj);
    if (pos < 0) pos = 0;
    if (limit > n) limit = n;
    if (pos >= limit) return PyLong_FromSsize_t(limit);
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bufobj);
    /* a token starting before limit may end after it: search to the buffer's end */
    Py_ssize_t longest = 0;
    for (int k = 0; k < s->nmarkers; k++)
        if (s->marker_len[k] > longest) longest = s->marker_len[k];
    Py_ssize_t stop = limit + longest - 1 < n ? limit + longest - 1 : n;
    Py_ssize_t t = next_marker(s, b, pos, stop);
    return PyLong_FromSsize_t(t < limit ? t : limit);
}

/* shape(tag) -> the cache key of a complete start tag's bytes (None: too long, or no tag) */
static PyObject *Scanner_shape(Scanner *s, PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "shape() takes bytes");
        return NULL;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    Py_ssize_t name_end, attr_start, attr_end;
    if (n < 2 || b[0] != '<' || match_tag(b, 0, n, &name_end, &attr_start, &attr_end) != n) Py_RETURN_NONE;
    unsigned char key[MAX_KEY];
    Py_ssize_t klen = shape_of(s, b, 0, n, attr_start, attr_end, key);
    if (klen < 0) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)key, klen);
}

/* tag_end(buf, pos) -> the end of the start (or end) tag at pos, as START_TAG_RE/END_TAG_RE
 * match it, or -1 (for the tests: the grammar is the regex's) */
static PyObject *Scanner_tag_end(Scanner *s, PyObject *args) {
    (void)s;
    PyObject *bufobj;
    Py_ssize_t pos;
    if (!PyArg_ParseTuple(args, "O!n", &PyBytes_Type, &bufobj, &pos)) return NULL;
    Py_ssize_t n = PyBytes_GET_SIZE(bufobj);
    if (pos < 0 || pos >= n || PyBytes_AS_STRING(bufobj)[pos] != '<') return PyLong_FromLong(-1);
    return PyLong_FromSsize_t(match_tag((const unsigned char *)PyBytes_AS_STRING(bufobj), pos, n, NULL, NULL, NULL));
}

/* A tuple of lower-case tag names as bytes (NULL: none) into names/lens/count. */
static int read_tag_names(PyObject *tuple, char names[][MAX_NAME_LEN], Py_ssize_t *lens, int *count,
                          const char *what) {
    *count = 0;
    for (Py_ssize_t k = 0; tuple != NULL && k < PyTuple_GET_SIZE(tuple); k++) {
        PyObject *v = PyTuple_GET_ITEM(tuple, k);
        if (!PyBytes_Check(v) || PyBytes_GET_SIZE(v) < 1 || PyBytes_GET_SIZE(v) >= MAX_NAME_LEN ||
            *count >= MAX_NAMES) {
            PyErr_Format(PyExc_ValueError, "%s: lower-case tag names as bytes", what);
            return -1;
        }
        memcpy(names[*count], PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
        lens[(*count)++] = PyBytes_GET_SIZE(v);
    }
    return 0;
}

static int Scanner_init(Scanner *s, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"names", "void", "markers", "noise", "cut", "keep_verdict", "plain_svg", NULL};
    PyObject *names, *voids, *markers, *noise, *cut, *keep, *plain = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!O!O!O|O!", kwlist, &PyDict_Type, &names, &PyTuple_Type,
                                     &voids, &PyTuple_Type, &markers, &PyTuple_Type, &noise, &PyTuple_Type, &cut,
                                     &keep, &PyTuple_Type, &plain))
        return -1;
    if (read_names(noise, s->noise, s->noise_len, &s->nnoise) < 0) return -1;
    if (read_names(cut, s->cut, s->cut_len, &s->ncut) < 0) return -1;
    if (read_tag_names(plain, s->plain, s->plain_len, &s->nplain, "plain_svg") < 0) return -1;
    memset(s->first, 0, sizeof(s->first));
    s->nnames = 0;
    PyObject *key, *value;
    Py_ssize_t it = 0;
    while (PyDict_Next(names, &it, &key, &value)) {
        if (!PyBytes_Check(key) || !PyLong_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "names: bytes -> kind");
            return -1;
        }
        Py_ssize_t len = PyBytes_GET_SIZE(key);
        if (s->nnames >= MAX_NAMES || len < 1 || len >= MAX_NAME_LEN) {
            PyErr_SetString(PyExc_ValueError, "too many names, or a name too long");
            return -1;
        }
        NameEntry *e = &s->names[s->nnames++];
        memcpy(e->name, PyBytes_AS_STRING(key), (size_t)len);
        e->len = len;
        e->kind = (int)PyLong_AsLong(value);
        if (e->kind < K_PLAIN || e->kind > K_PLAINTEXT) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "names: an unknown kind");
            return -1;
        }
        s->first[(unsigned char)e->name[0]]++;
    }
    /* names grouped by first byte */
    int at = 0;
    for (int c = 0; c < 256; c++) {
        s->bucket_start[c] = (unsigned char)at;
        for (int e = 0; e < s->nnames; e++)
            if ((unsigned char)s->names[e].name[0] == c) s->by_first[at++] = (unsigned char)e;
    }
    if (read_tag_names(voids, s->voids, s->void_len, &s->nvoid, "void") < 0) return -1;
    for (int e = 0; e < s->nnames; e++) s->names[e].is_void = is_void_name(s, s->names[e].name, s->names[e].len);
#if defined(HAVE_AVX2_PATH)
    s->avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    s->avx2 = 0;
#endif
    Py_ssize_t nm = PyTuple_GET_SIZE(markers);
    if (nm > MAX_MARKERS) {
        PyErr_SetString(PyExc_ValueError, "too many marker tokens");
        return -1;
    }
    s->nmarkers = 0;
    for (Py_ssize_t k = 0; k < nm; k++) {
        PyObject *m = PyTuple_GET_ITEM(markers, k);
        if (!PyBytes_Check(m) || PyBytes_GET_SIZE(m) < 1 || PyBytes_GET_SIZE(m) >= MAX_MARKER_LEN) {
            PyErr_SetString(PyExc_ValueError, "marker tokens: bytes of 1 to 63 bytes");
            return -1;
        }
        memcpy(s->markers[k], PyBytes_AS_STRING(m), (size_t)PyBytes_GET_SIZE(m));
        s->marker_len[k] = PyBytes_GET_SIZE(m);
        s->nmarkers++;
    }
    Py_XSETREF(s->keep_verdict, Py_NewRef(keep));
    if (s->action_str == NULL) s->action_str = PyUnicode_InternFromString("action");
    if (s->watch_str == NULL) s->watch_str = PyUnicode_InternFromString("watch");
    if (s->action_str == NULL || s->watch_str == NULL) return -1;
    return 0;
}

static void Scanner_dealloc(Scanner *s) {
    Py_XDECREF(s->keep_verdict);
    Py_XDECREF(s->action_str);
    Py_XDECREF(s->watch_str);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyMethodDef Scanner_methods[] = {
    {"text", (PyCFunction)Scanner_text, METH_VARARGS,
     "text(buf, pos, t, verdicts, shapes, texts, text_verdict, prefix_pending, breakout, ctx)"},
    {"marker", (PyCFunction)Scanner_marker, METH_VARARGS, "marker(buf, pos, limit) -> index"},
    {"shape", (PyCFunction)Scanner_shape, METH_O, "shape(tag) -> cache key or None"},
    {"tag_end", (PyCFunction)Scanner_tag_end, METH_VARARGS, "tag_end(buf, pos) -> end or -1"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gpc_middleware.enforcement.tokenizer._scan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The text state's hot path for one ScanPatterns (see the module docstring).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT, "_scan", "The compiled scanning core of the tokenizer (see accel.py).", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__scan(void) {
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&scan_module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Scanner", (PyObject *)&ScannerType) < 0 ||
        PyModule_AddIntConstant(m, "PLAIN", K_PLAIN) < 0 || PyModule_AddIntConstant(m, "CONTEXT", K_CONTEXT) < 0 ||
        PyModule_AddIntConstant(m, "SCRIPT", K_SCRIPT) < 0 || PyModule_AddIntConstant(m, "RAW", K_RAW) < 0 ||
        PyModule_AddIntConstant(m, "PLAINTEXT", K_PLAINTEXT) < 0 || PyModule_AddIntConstant(m, "MAX_KEY", MAX_KEY) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
