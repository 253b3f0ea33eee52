/* Fuzz target: an SMTP server's replies, as send.c's client reads them.
 * The input is everything the server says (greeting, EHLO, MAIL, RCPT,
 * DATA and the reply to the message); libetpan's client reads it from a
 * socket pair through the same calls, in the same order, as send_smtp
 * (without TLS and AUTH), stopping where send_smtp would.  Multiline
 * "250-" replies and the EHLO keywords are libetpan's parsing; what
 * digest itself makes of a reply is send_reply_text, the line that ends
 * up in errors and in the ledger: one line, the code first, no control
 * character.  Built for libFuzzer with -DDIGEST_FUZZ=ON (clang);
 * replay.c runs it over files in the ordinary test suite. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What fits in a socket's buffer without a reader on the other side. */
#define REPLY_MAX 65536

static const char message[] =
	"From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\n\r\n.\r\n"
	"From me\r\n";

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_smtp: %s\n", what);
		abort();
	}
}

/* What digest makes of the session's last reply. */
static void check_reply(const mailsmtp *s)
{
	char *line = send_reply_text(s->response_code, s->response);
	if (s->response_code <= 0 || !s->response) {
		check(line == NULL, "a reply line without a reply");
		return;
	}
	check(line != NULL, "no reply line");
	char code[16];
	int n = snprintf(code, sizeof code, "%d ", s->response_code);
	check(strncmp(line, code, (size_t)n) == 0, "reply line without code");
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		check(*p >= 0x20 && *p != 0x7f, "control character in reply");
	free(line);
}

/*
 * libetpan 1.9.4 loops for ever on an EHLO reply line "AUTH ..." or
 * "AUTH=..." with a tab among its mechanisms: mailesmtp_parse_ehlo does
 * not step over a tab.  send.c reads EHLO replies with their tabs
 * turned into spaces (send_ehlo; test_send's test_ehlo_tab), but this
 * target calls libetpan directly: input with a line that holds "AUTH"
 * and, after it, a tab is left out (more than needed, simply).
 */
static bool hangs_libetpan(const uint8_t *data, size_t size)
{
	bool auth = false;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n')
			auth = false;
		else if (data[i] == '\t' && auth)
			return true;
		else if (i + 4 <= size &&
			 strncasecmp((const char *)data + i, "AUTH", 4) == 0)
			auth = true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	mailsmtp *s = NULL;
	mailstream *stream;

	if (size > REPLY_MAX || hangs_libetpan(data, size))
		return 0;
	signal(SIGPIPE, SIG_IGN);
	check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
	      "socketpair");
	for (size_t off = 0; off < size;) {
		ssize_t k = write(sv[1], data + off, size - off);
		check(k > 0, "write");
		off += (size_t)k;
	}
	shutdown(sv[1], SHUT_WR); /* then the client reads the end */

	s = mailsmtp_new(0, NULL);
	check(s != NULL, "mailsmtp_new");
	mailsmtp_set_timeout(s, 5);
	stream = mailstream_socket_open_timeout(sv[0], 5);
	check(stream != NULL, "mailstream_socket_open");
	/* The steps of send_smtp, each stopping it when it fails. */
	if (mailsmtp_connect(s, stream) != MAILSMTP_NO_ERROR)
		goto done; /* stream closed */
	check(s->response_code == 220, "greeting accepted without 220");
	check_reply(s);
	int r = mailesmtp_ehlo(s);
	check_reply(s);
	if (r != MAILSMTP_NO_ERROR)
		goto done;
	check(s->response_code == 250, "EHLO accepted without 250");
	if (mailsmtp_mail(s, "a@example.com") != MAILSMTP_NO_ERROR)
		goto reply;
	check_reply(s);
	if (mailsmtp_rcpt(s, "b@example.org") != MAILSMTP_NO_ERROR)
		goto reply;
	check_reply(s);
	if (mailsmtp_data(s) != MAILSMTP_NO_ERROR)
		goto reply;
	check_reply(s);
	if (mailsmtp_data_message(s, message, sizeof message - 1) ==
	    MAILSMTP_NO_ERROR)
		check(s->response_code == 250, "message accepted without 250");
reply:
	check_reply(s);
done:
	mailsmtp_free(s); /* QUIT into the socket, then closes sv[0] */
	close(sv[1]);
	return 0;
}
