/*
 * send — deliver one finished message to one recipient, either over SMTP
 * (STARTTLS on smtp://, implicit TLS on smtps://, the server certificate
 * verified against the system CAs or a given CA file, host name included,
 * before any credentials; AUTH PLAIN or LOGIN) or through a
 * sendmail-compatible command (no shell; "-i -f FROM -- TO" appended, the
 * message on stdin with LF line endings).  The password comes from a
 * command, never from a file, and never appears in an error message.
 *
 * No libetpan or GnuTLS type crosses this header.  Nothing is printed
 * (libetpan's GnuTLS layer itself may write "GnuTLS error: ..." to stderr).
 * Not thread-safe: during a call SIGPIPE is ignored and libetpan's global
 * mailstream_network_delay is set to the timeout; both are restored.
 */
#ifndef DIGEST_SEND_H
#define DIGEST_SEND_H

#include <stddef.h>

#include "util.h"

typedef struct {
	/* smtp://host[:port] (STARTTLS required, default port 587) or
	 * smtps://host[:port] (implicit TLS, default 465); NULL when sendmail
	 * is used.  An IPv6 address is written in brackets. */
	const char *url;
	/* argv of a sendmail-compatible command, or NULL/empty; used only
	 * when url is NULL. */
	const strvec_t *sendmail;
	/* AUTH user or NULL (no AUTH). */
	const char *user;
	/* Run through /bin/sh -c; the first line of its stdout is the
	 * password; a non-zero exit is an error.  Required with user. */
	const char *password_command;
	/* PEM CA file to trust instead of the system CAs, or NULL. */
	const char *tls_ca_file;
	/* Per step (connect, each command); 30 when 0. */
	int timeout_s;
} send_config_t;

/*
 * Deliver message (CRLF lines, a complete RFC 5322 message) from `from`
 * (envelope sender, bare address) to `to` (bare address).  Returns:
 *  ST_OK       the server accepted it (250 after DATA) or sendmail exited 0;
 *  ST_TEMPFAIL anything the next run should retry: connection refused or
 *              timed out, a 4xx reply, a TLS failure (including an
 *              untrusted or wrong-host certificate, or no STARTTLS offered),
 *              authentication failure, password_command failure, sendmail
 *              exiting 75 (EX_TEMPFAIL) or killed by a signal;
 *  ST_DATAERR  a permanent 5xx rejection of the sender, recipient or
 *              message, or sendmail exiting with another non-zero code;
 *  ST_CONFIG   a bad URL, no backend, user without password_command, an
 *              unusable tls_ca_file, or a sendmail command that cannot run;
 *  ST_USAGE    an envelope address that fails ident_addr_sendable.
 * err->msg says what happened in one line (server text sanitized) and never
 * contains the password.  *smtp_reply (smtp_reply may be NULL) gets the
 * server's last reply line ("250 OK ...") or "sendmail exit N", or NULL when
 * there was none; the caller frees it.
 */
status_t send_message(const send_config_t *c, const char *from, const char *to,
		      const char *message, size_t len, char **smtp_reply,
		      err_t *err);

/*
 * The last line of an SMTP reply as "CODE text", sanitized (str_sanitize):
 * what send_message reports of a server's reply.  response is libetpan's
 * text of the reply, its lines without their codes, each ending in '\n'.
 * NULL when code <= 0 or response is NULL.  Caller frees.  Exported for
 * its fuzz target.
 */
char *send_reply_text(int code, const char *response);

#endif
