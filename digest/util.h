/*
 * util — the small things every module needs: allocation that aborts on
 * failure, growable strings and string vectors, status codes with an error
 * message, and a 64-bit FNV-1a hash.  No I/O beyond what is named here.
 */
#ifndef DIGEST_UTIL_H
#define DIGEST_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stat;

#if defined(__GNUC__)
#define UTIL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define UTIL_PRINTF(a, b)
#endif

/* Status codes shared by every module.  Only cli.c maps them to sysexits. */
typedef enum {
	ST_OK = 0,
	ST_USAGE,     /* bad command line                         -> 64 */
	ST_DATAERR,   /* a whole source is not mail/calendar data -> 65 */
	ST_NOINPUT,   /* a source or file is missing              -> 66 */
	ST_SOFTWARE,  /* internal error, database refused         -> 70 */
	ST_CANTCREAT, /* cannot create an output file             -> 73 */
	ST_IOERR,     /* read or write error                      -> 74 */
	ST_TEMPFAIL,  /* retry later: network, lock busy          -> 75 */
	ST_CONFIG,    /* configuration error                      -> 78 */
} status_t;

/* An error: a status and a one-line message ("where: what"). */
typedef struct {
	status_t status;
	char msg[1024];
} err_t;

/* Set *e (when not NULL) and return st, so callers can `return err_set(...)`.
 */
status_t err_set(err_t *e, status_t st, const char *fmt, ...) UTIL_PRINTF(3, 4);

/* Allocation: abort with a message on failure; never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) UTIL_PRINTF(1, 2); /* caller frees */
/* Hand the free memory of the heap back to the system (glibc keeps it):
 * after a phase that freed much, so that the next one's peak does not
 * come on top of it. */
void mem_give_back(void);

/* Growable byte string, always NUL-terminated once anything was added. */
typedef struct {
	char *s;
	size_t len, cap;
} strbuf_t;

void sb_add(strbuf_t *b, const char *s, size_t n);
/* Room for n more bytes, exactly: for a size known in advance. */
void sb_reserve(strbuf_t *b, size_t n);
void sb_puts(strbuf_t *b, const char *s);
void sb_putc(strbuf_t *b, char c);
void sb_printf(strbuf_t *b, const char *fmt, ...) UTIL_PRINTF(2, 3);
void sb_add_i64(strbuf_t *b, int64_t v);
/* v in decimal into out, NUL-terminated; returns its length. */
size_t i64_format(int64_t v, char out[24]); /* in decimal: sb_printf's "%lld",
					     * without its cost */
/* Append the n bytes at p in base64 (RFC 4648, with padding). */
void sb_add_base64(strbuf_t *b, const void *p, size_t n);
const char *sb_str(strbuf_t *b); /* "" when empty */
char *sb_steal(strbuf_t *b);     /* caller frees; b is reset */
void sb_free(strbuf_t *b);

/* Vector of owned strings. */
typedef struct {
	char **v;
	size_t n, cap;
} strvec_t;

void strvec_push(strvec_t *sv, const char *s);           /* copies s */
void strvec_take(strvec_t *sv, char *s);                 /* takes ownership */
bool strvec_contains(const strvec_t *sv, const char *s); /* case-insensitive */
void strvec_free(strvec_t *sv);

/* A map from strings (copied) to int64 values: open addressing, grows as
 * needed, the keys packed in one buffer (a set of a few hundred thousand
 * keys costs no malloc each).  For caches of database ids and sets of
 * keys. */
struct strmap_slot {
	uint64_t hash; /* of the key */
	int64_t val;
	size_t key; /* its offset in text + 1; 0 in an empty slot */
};

typedef struct {
	struct strmap_slot *slots;
	strbuf_t text; /* "key\0key\0..." */
	size_t n, cap;
} strmap_t;

void strmap_put(strmap_t *m, const char *key, int64_t val);
/* Where key's value is, added as 0 when key is new: valid until the next
 * strmap_put or strmap_ref. */
int64_t *strmap_ref(strmap_t *m, const char *key);
bool strmap_get(const strmap_t *m, const char *key, int64_t *val);
/* The key in slot i < m->cap (its value in *val), or NULL for an empty
 * slot: for a walk over all of them. */
const char *strmap_slot_key(const strmap_t *m, size_t i, int64_t *val);
void strmap_free(strmap_t *m);

/* int64_t comparison for qsort. */
int cmp_i64(const void *a, const void *b);
/* The k-th smallest (from 0, k < n) of the n values get(0, ctx) .. get(n - 1,
 * ctx), each at most max: found in passes over them that hold none, each
 * narrowing the range it is in 4096-fold (three for a year of seconds),
 * for values too many to copy. */
uint64_t u64_select_passes(size_t n, size_t k, uint64_t max,
			   uint64_t (*get)(size_t i, const void *ctx),
			   const void *ctx);

/* Strings. */
char *str_lower(char *s); /* ASCII, in place; returns s */
char *str_trim(char *s);  /* in place; returns the start */
bool str_starts(const char *s, const char *prefix);
bool str_iends(const char *s, const char *suffix); /* case-insensitive */
/* strcmp of two char * pointed to: for qsort and bsearch of strings. */
int str_ptr_cmp(const void *a, const void *b);
/* Is s all ASCII (no byte above 0x7f)? */
bool str_ascii(const char *s);
/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when it is not
 * one (overlong forms and surrogates included). */
size_t str_utf8_len(const unsigned char *s);
/* Replace control characters (C0, DEL) by spaces and invalid UTF-8 by '?',
 * in place: what comes from mail may be shown, logged or stored as text. */
char *str_sanitize(char *s);

/*
 * Files: open path for reading, but only when it is a regular file.  A
 * reader of anything a user or a mail program can put in place must not
 * block on a FIFO nobody writes to (open and read wait forever, and the
 * run holds its lock), read a device that never ends (/dev/zero) or open
 * one at all (opening a device can act: a tape rewinds, a watchdog arms).
 * So path is stat()ed first and opened only when it is a regular file,
 * then opened with O_NONBLOCK (a FIFO swapped in between cannot block)
 * and fstat()ed again; O_NONBLOCK is cleared before returning.
 *
 * flags are added to O_RDONLY | O_CLOEXEC: O_NOATIME is tried, and left
 * out where it is not permitted (a file of another user).  sb, when not
 * NULL, gets the file's status on success, and also when the file is not
 * a regular one.
 *
 * Returns the descriptor, or -1 with errno set and err (when not NULL)
 * set to "PATH: WHAT" with a status: ST_NOINPUT when path does not exist
 * (ENOENT, ENOTDIR), ST_DATAERR when it is not a regular file (errno
 * EISDIR for a directory, else ENXIO), ST_IOERR otherwise.  For every
 * reader of what users name: mail, calendars, the config, templates.
 */
int open_regular(const char *path, int flags, struct stat *sb, err_t *err);
/* The WHAT of a failed open_regular, for a message that names the file
 * itself: "not a regular file (a FIFO)" and the like, or strerror(e)
 * ("Is a directory").  e is its errno, sb what it filled (or NULL). */
const char *open_regular_why(int e, const struct stat *sb);

/* Files: create every missing directory above path (mkdir -p of its
 * directory part), each with mode 0700.  Returns 0, or -1 with errno set. */
int mkdir_parents(const char *path);

/* 64-bit FNV-1a, and the same as 16 hex digits in out[17]. */
uint64_t hash64(const void *data, size_t n);
uint64_t hash64_more(uint64_t h, const void *data, size_t n);
void hash64_hex(uint64_t h, char out[17]);
/* 32-bit FNV-1a (for --shard). */
uint32_t hash32(const void *data, size_t n);

/* The signal that asked digest to stop (SIGTERM, SIGINT, SIGHUP), or 0:
 * set by the handler of run_catch_signals (run.h).  Loops that can take
 * long (messages of a source, calendar files, a child's output) look at
 * it between steps and return ST_TEMPFAIL, rolling back what is open. */
extern volatile sig_atomic_t util_stop;

#endif
