/* Fuzz target: mailsrc_parse_header on arbitrary bytes.  Built for
 * libFuzzer with -DDIGEST_FUZZ=ON (clang); replay.c runs it over files in
 * the ordinary test suite.  Every header is read twice, with the plain
 * address fields, UTF-8 names, dates, subjects and ids read by mailhdr.c
 * itself and with all of them left to libetpan: the two must agree on
 * every mailbox, date, id, subject and warning. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mailsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_addrs(const mailsrc_addr_t *a, const mailsrc_addr_t *b,
		       size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!same_str(a[i].addr, b[i].addr) ||
		    !same_str(a[i].name, b[i].name))
			return false;
	return true;
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_header: %s differ from libetpan's\n",
			what);
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mailsrc_header_t h, e;
	const char *buf = (const char *)data;
	size_t len = mailsrc_header_length(buf, size);
	memset(&h, 0, sizeof h);
	memset(&e, 0, sizeof e);
	mailsrc_parse_header(buf, len, true, &h);
	mailhdr_own_parsers = false;
	mailsrc_parse_header(buf, len, true, &e);
	mailhdr_own_parsers = true;

	for (size_t i = 0; i < h.nrcpt; i++)
		if (!h.rcpt[i].addr || !strchr(h.rcpt[i].addr, '@'))
			__builtin_trap();
	check(h.nfrom == e.nfrom && same_addrs(h.from, e.from, h.nfrom),
	      "From mailboxes");
	check(h.nrcpt == e.nrcpt && same_addrs(h.rcpt, e.rcpt, h.nrcpt),
	      "recipients");
	check(!h.sender == !e.sender &&
		      (!h.sender || same_addrs(h.sender, e.sender, 1)),
	      "Sender");
	check(same_str(h.subject, e.subject) &&
		      h.subject_hash == e.subject_hash,
	      "Subject");
	check(h.has_date == e.has_date && h.date == e.date, "Date");
	check(same_str(h.message_id, e.message_id), "Message-ID");
	check(same_str(h.in_reply_to, e.in_reply_to), "In-Reply-To");
	check(h.automated == e.automated, "automated");
	check(h.cut == e.cut, "cut");
	check(h.warnings.n == e.warnings.n, "warnings");
	for (size_t i = 0; i < h.warnings.n; i++)
		check(strcmp(h.warnings.v[i], e.warnings.v[i]) == 0,
		      "warnings");
	mailsrc_header_clear(&h);
	mailsrc_header_clear(&e);
	return 0;
}
