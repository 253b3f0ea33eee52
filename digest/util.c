/*
 * util — allocation, strings, status codes and hashing shared by every
 * module.  See util.h.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

status_t err_set(err_t *e, status_t st, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
		e->status = st;
	}
	return st;
}

static void oom(void)
{
	fputs("digest: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	char *p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void mem_give_back(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static void sb_grow(strbuf_t *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->s = xrealloc(b->s, cap);
	b->cap = cap;
}

void sb_reserve(strbuf_t *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	b->cap = b->len + n + 1;
	b->s = xrealloc(b->s, b->cap);
}

void sb_add(strbuf_t *b, const char *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sb_puts(strbuf_t *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void sb_putc(strbuf_t *b, char c)
{
	sb_add(b, &c, 1);
}

void sb_add_base64(strbuf_t *b, const void *data, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
				  "stuvwxyz0123456789+/";
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {tab[v >> 18], tab[(v >> 12) & 63],
			     i + 1 < n ? tab[(v >> 6) & 63] : '=',
			     i + 2 < n ? tab[v & 63] : '='};
		sb_add(b, q, 4);
	}
}

size_t i64_format(int64_t v, char out[24])
{
	char d[24], *p = d + sizeof d;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		*--p = '-';
	size_t n = (size_t)(d + sizeof d - p);
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

void sb_add_i64(strbuf_t *b, int64_t v)
{
	char d[24];
	size_t n = i64_format(v, d);
	sb_add(b, d, n);
}

void sb_printf(strbuf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *sb_str(strbuf_t *b)
{
	return b->s ? b->s : "";
}

char *sb_steal(strbuf_t *b)
{
	char *s = b->s ? b->s : xstrdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void sb_free(strbuf_t *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void strvec_take(strvec_t *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 4;
		sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
	}
	sv->v[sv->n++] = s;
}

void strvec_push(strvec_t *sv, const char *s)
{
	strvec_take(sv, xstrdup(s));
}

bool strvec_contains(const strvec_t *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcasecmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void strvec_free(strvec_t *sv)
{
	if (!sv)
		return;
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* The slot of key (hash h) in m: where it is, or the empty one where it
 * goes.  Hashes are compared first: a probe rarely reads another key. */
static size_t strmap_slot(const strmap_t *m, uint64_t h, const char *key)
{
	size_t i = (size_t)h & (m->cap - 1);
	const struct strmap_slot *sl;
	while ((sl = &m->slots[i])->key &&
	       (sl->hash != h || strcmp(m->text.s + sl->key - 1, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

int64_t *strmap_ref(strmap_t *m, const char *key)
{
	if ((m->n + 1) * 4 > m->cap * 3) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct strmap_slot *g = xcalloc(cap, sizeof *g);
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slots[i].key)
				continue;
			size_t j = (size_t)m->slots[i].hash & (cap - 1);
			while (g[j].key) /* all keys differ */
				j = (j + 1) & (cap - 1);
			g[j] = m->slots[i];
		}
		free(m->slots);
		m->slots = g;
		m->cap = cap;
	}
	size_t len = strlen(key);
	uint64_t h = hash64(key, len);
	struct strmap_slot *sl = &m->slots[strmap_slot(m, h, key)];
	if (!sl->key) {
		sl->hash = h;
		sl->val = 0;
		sl->key = m->text.len + 1;
		sb_add(&m->text, key, len + 1);
		m->n++;
	}
	return &sl->val;
}

void strmap_put(strmap_t *m, const char *key, int64_t val)
{
	*strmap_ref(m, key) = val;
}

bool strmap_get(const strmap_t *m, const char *key, int64_t *val)
{
	if (!m->cap)
		return false;
	const struct strmap_slot *sl =
		&m->slots[strmap_slot(m, hash64(key, strlen(key)), key)];
	if (!sl->key)
		return false;
	if (val)
		*val = sl->val;
	return true;
}

const char *strmap_slot_key(const strmap_t *m, size_t i, int64_t *val)
{
	const struct strmap_slot *sl = &m->slots[i];
	if (!sl->key)
		return NULL;
	if (val)
		*val = sl->val;
	return m->text.s + sl->key - 1;
}

void strmap_free(strmap_t *m)
{
	if (!m)
		return;
	free(m->slots);
	sb_free(&m->text);
	memset(m, 0, sizeof *m);
}

char *str_lower(char *s)
{
	for (char *p = s; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

char *str_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* buckets of a pass of u64_select_passes */
#define SELECT_BUCKETS 4096

uint64_t u64_select_passes(size_t n, size_t k, uint64_t max,
			   uint64_t (*get)(size_t i, const void *ctx),
			   const void *ctx)
{
	size_t *count = xcalloc(SELECT_BUCKETS, sizeof *count);
	uint64_t lo = 0, hi = max; /* the k-th is in [lo, hi] */
	while (lo < hi) {
		uint64_t w = (hi - lo) / SELECT_BUCKETS + 1;
		memset(count, 0, SELECT_BUCKETS * sizeof *count);
		for (size_t i = 0; i < n; i++) {
			uint64_t v = get(i, ctx);
			if (v >= lo && v <= hi)
				count[(v - lo) / w]++;
		}
		/* k is now counted among the values in [lo, hi] */
		size_t b = 0;
		while (b + 1 < SELECT_BUCKETS && k >= count[b])
			k -= count[b++];
		lo += b * w;
		if (hi - lo > w - 1)
			hi = lo + w - 1;
	}
	free(count);
	return lo;
}

int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool str_iends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

bool str_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s > 0x7f)
			return false;
	return true;
}

size_t str_utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *str_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	while (p && *p) {
		if (*p < 0x80) { /* ASCII: no call to decode it */
			if (*p < 0x20 || *p == 0x7f)
				*p = ' ';
			p++;
		} else {
			size_t n = str_utf8_len(p);
			if (n == 0)
				*p++ = '?';
			else
				p += n;
		}
	}
	return s;
}

uint64_t hash64_more(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t hash64(const void *data, size_t n)
{
	return hash64_more(0xcbf29ce484222325ULL, data, n);
}

void hash64_hex(uint64_t h, char out[17])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--, h >>= 4)
		out[i] = hex[h & 15];
	out[16] = '\0';
}

uint32_t hash32(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* Why a file of mode m is not read.  A static string. */
static const char *file_not_regular(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFIFO:
		return "not a regular file (a FIFO)";
	case S_IFCHR:
		return "not a regular file (a character device)";
	case S_IFBLK:
		return "not a regular file (a block device)";
	case S_IFSOCK:
		return "not a regular file (a socket)";
	default:
		return "not a regular file";
	}
}

const char *open_regular_why(int e, const struct stat *sb)
{
	/* ENXIO does not come from open(2) or fstat(2) of a regular file;
	 * a directory is "Is a directory". */
	if (e == ENXIO)
		return sb ? file_not_regular(sb->st_mode)
			  : "not a regular file";
	return strerror(e);
}

int open_regular(const char *path, int flags, struct stat *sb, err_t *err)
{
	struct stat st;
	int fd = -1, e;

	flags |= O_RDONLY | O_CLOEXEC | O_NONBLOCK;
	if (stat(path, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode)) {
		fd = open(path, flags);
		if (fd < 0 && errno == EPERM && (flags & O_NOATIME))
			fd = open(path, flags & ~O_NOATIME);
		if (fd < 0 || fstat(fd, &st) < 0)
			goto fail;
	}
	if (sb)
		*sb = st;
	if (!S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		e = S_ISDIR(st.st_mode) ? EISDIR : ENXIO;
		err_set(err, ST_DATAERR, "%s: %s", path,
			open_regular_why(e, &st));
		errno = e;
		return -1;
	}
	/* Blocking again: reads of a regular file never wait anyway, but
	 * a caller may hand the descriptor to stdio. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	err_set(err, e == ENOENT || e == ENOTDIR ? ST_NOINPUT : ST_IOERR,
		"%s: %s", path, strerror(e));
	errno = e;
	return -1;
}

int mkdir_parents(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;

	if (!slash || slash == dir)
		goto done;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			rc = -1;
			goto done;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		rc = -1;
done:
	free(dir); /* leaves errno as mkdir set it */
	return rc;
}

volatile sig_atomic_t util_stop;
