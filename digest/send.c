/*
 * send — SMTP (libetpan, certificate checked with GnuTLS) and sendmail
 * delivery of one message to one recipient.  See send.h for the contract
 * and docs/libraries.md §3.4 and §7 for the library traps handled here:
 * libetpan neither verifies certificates nor sends SNI by itself, AUTH must
 * follow a second EHLO after STARTTLS, and envelope addresses are pasted
 * into commands unchecked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, explicit_bzero */
#endif

#include "send.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "ident.h"
#include "proc.h"
#include "tls.h"

#define SEND_TIMEOUT_DEFAULT 30
#define SEND_PORT_STARTTLS   587
#define SEND_PORT_TLS        465
#define SEND_EX_TEMPFAIL     75 /* sysexits.h EX_TEMPFAIL */

/* Split smtp[s]://host[:port][/] into its parts; *host is the caller's. The
 * URL is never echoed in a message (it might carry a secret). */
static status_t send_parse_url(const char *url, bool *implicit, char **host,
			       uint16_t *port, err_t *err)
{
	const char *p, *hs, *he, *q;
	unsigned long v = 0;

	*host = NULL;
	if (strncasecmp(url, "smtps://", 8) == 0) {
		*implicit = true;
		*port = SEND_PORT_TLS;
		p = url + 8;
	} else if (strncasecmp(url, "smtp://", 7) == 0) {
		*implicit = false;
		*port = SEND_PORT_STARTTLS;
		p = url + 7;
	} else {
		return err_set(err, ST_CONFIG,
			       "smtp url: scheme must be smtp:// or smtps://");
	}
	if (*p == '[') {
		hs = p + 1;
		he = strchr(hs, ']');
		if (he == NULL)
			return err_set(err, ST_CONFIG, "smtp url: missing ']'");
		q = he + 1;
	} else {
		hs = p;
		he = hs + strcspn(hs, ":/?#@");
		q = he;
	}
	if (memchr(p, '@', strcspn(p, "/?#")) != NULL)
		return err_set(err, ST_CONFIG,
			       "smtp url: no user or password allowed in it "
			       "(use user = and password_command =)");
	if (he == hs)
		return err_set(err, ST_CONFIG, "smtp url: no host");
	for (const char *h = hs; h < he; h++)
		if ((unsigned char)*h <= ' ' || *h == 0x7f || *h == '[')
			return err_set(err, ST_CONFIG,
				       "smtp url: bad character in host");
	if (*q == ':') {
		q++;
		if (*q < '0' || *q > '9')
			return err_set(err, ST_CONFIG, "smtp url: bad port");
		while (*q >= '0' && *q <= '9' && v <= 65535)
			v = v * 10 + (unsigned long)(*q++ - '0');
		if (v == 0 || v > 65535 || (*q >= '0' && *q <= '9'))
			return err_set(err, ST_CONFIG, "smtp url: bad port");
		*port = (uint16_t)v;
	}
	if (*q == '/')
		q++;
	if (*q != '\0')
		return err_set(err, ST_CONFIG,
			       "smtp url: nothing may follow host[:port]");
	*host = xstrndup(hs, (size_t)(he - hs));
	return ST_OK;
}

/* The sendmail backend: argv + "-i -f FROM -- TO", message on stdin with
 * LF line endings, bounded by the timeout. */
static status_t send_sendmail(const strvec_t *cmd, const char *from,
			      const char *to, const char *msg, size_t len,
			      int timeout, char **reply, err_t *err)
{
	status_t st;
	char **argv = NULL;
	strbuf_t body = {0};
	size_t i, start, taken = 0;
	int ws = 0, code;

	argv = xcalloc(cmd->n + 6, sizeof *argv);
	for (i = 0; i < cmd->n; i++)
		argv[i] = cmd->v[i];
	argv[i++] = "-i";
	argv[i++] = "-f";
	argv[i++] = (char *)from;
	argv[i++] = "--";
	argv[i++] = (char *)to;
	argv[i] = NULL;

	for (i = 0, start = 0; i < len; i++) {
		if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n') {
			sb_add(&body, msg + start, i - start);
			start = i + 1;
		}
	}
	sb_add(&body, msg + start, len - start);

	/* Its stdout is read and dropped: cron would mail it. */
	st = proc_run("sendmail", argv, body.s, body.len, timeout, 0, NULL, &ws,
		      &taken, err);
	if (st != ST_OK)
		goto done;
	st = ST_TEMPFAIL;
	if (WIFSIGNALED(ws)) {
		if (reply != NULL)
			*reply = xasprintf("sendmail signal %d", WTERMSIG(ws));
		err_set(err, st, "sendmail: killed by signal %d", WTERMSIG(ws));
		goto done;
	}
	code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	if (reply != NULL)
		*reply = xasprintf("sendmail exit %d", code);
	if (code == 0 && taken < body.len) {
		err_set(err, st,
			"sendmail: exited 0 without reading the whole message");
		goto done;
	}
	if (code == SEND_EX_TEMPFAIL) {
		err_set(err, st, "sendmail: temporary failure (exit %d)", code);
		goto done;
	}
	if (code != 0) {
		st = err_set(err, ST_DATAERR, "sendmail: failed (exit %d)",
			     code);
		goto done;
	}
	st = ST_OK;
done:
	sb_free(&body);
	free(argv);
	return st;
}

char *send_reply_text(int code, const char *response)
{
	const char *line, *end;
	char *out;

	if (response == NULL || code <= 0)
		return NULL;
	end = response + strlen(response);
	while (end > response && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	line = end;
	while (line > response && line[-1] != '\n')
		line--;
	out = xasprintf("%d %.*s", code, (int)(end - line), line);
	return str_sanitize(out);
}

/* send_reply_text of the session's last reply. */
static char *send_reply_line(const mailsmtp *s)
{
	return s != NULL ? send_reply_text(s->response_code, s->response)
			 : NULL;
}

/* A short description of a libetpan SMTP error without a server reply. */
static const char *send_etpan_error(int r)
{
	switch (r) {
	case MAILSMTP_ERROR_CONNECTION_REFUSED:
		return "connection refused";
	case MAILSMTP_ERROR_HOSTNAME:
		return "host not found";
	case MAILSMTP_ERROR_SSL:
		return "TLS handshake failed";
	case MAILSMTP_ERROR_STREAM:
		return "connection lost or timed out";
	default:
		return mailsmtp_strerror(r);
	}
}

/* Report the failure of one SMTP step.  A 5xx reply to the envelope or
 * the message (txn) is permanent; everything else, a 5xx greeting or EHLO
 * included, is retried by the next run. */
static status_t send_step_fail(const mailsmtp *s, const char *where,
			       const char *step, int r, bool txn, err_t *err)
{
	int code = s->response_code;
	char *line;
	status_t st;

	if (r == MAILSMTP_ERROR_STREAM || r == MAILSMTP_ERROR_SSL ||
	    r == MAILSMTP_ERROR_CONNECTION_REFUSED || code < 400)
		return err_set(err, ST_TEMPFAIL, "%s: %s: %s", where, step,
			       send_etpan_error(r));
	line = send_reply_line(s);
	st = txn && code >= 500 && code < 600 ? ST_DATAERR : ST_TEMPFAIL;
	err_set(err, st, "%s: %s: %s", where, step, line != NULL ? line : "?");
	free(line);
	return st;
}

/* libetpan 1.9.4's EHLO parser (mailesmtp_parse_ehlo) loops for ever
 * when a tab separates the mechanisms of an AUTH line, so a broken or
 * hostile relay could hang digest past every timeout (found by
 * fuzz_smtp).  During EHLO the session's stream reads through
 * ehlo_read, which turns the reply's tabs into spaces: in a reply they
 * only ever separate words.  Only then: libetpan tells its TLS streams
 * apart by their driver. */
static const mailstream_low_driver *ehlo_driver;

static void untab_bytes(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\t')
			buf[i] = ' ';
}

static ssize_t ehlo_read(mailstream_low *low, void *buf, size_t n)
{
	ssize_t r = ehlo_driver->mailstream_read(low, buf, n);

	if (r > 0)
		untab_bytes(buf, (size_t)r);
	return r;
}

static int send_ehlo(mailsmtp *s)
{
	mailstream_low *low = mailstream_get_low(s->stream);
	mailstream_low_driver untab;
	int r;

	if (!low)
		return mailesmtp_ehlo(s);
	/* What the relay sent before it was asked (the reply in the same
	 * packet as the greeting, or right after STARTTLS's 220) is already
	 * in the stream's buffer. */
	untab_bytes(s->stream->read_buffer, s->stream->read_buffer_len);
	ehlo_driver = low->driver;
	untab = *low->driver;
	untab.mailstream_read = ehlo_read;
	low->driver = &untab;
	r = mailesmtp_ehlo(s);
	low->driver = (mailstream_low_driver *)ehlo_driver;
	ehlo_driver = NULL;
	return r;
}

static status_t send_smtp(const send_config_t *c, const char *from,
			  const char *to, const char *msg, size_t len,
			  char **reply, err_t *err)
{
	status_t st = ST_OK;
	bool implicit = false;
	char *host = NULL, *where = NULL, *pw = NULL;
	uint16_t port = 0;
	mailsmtp *s = NULL;
	time_t timeout = c->timeout_s > 0 ? c->timeout_s : SEND_TIMEOUT_DEFAULT;
	struct timeval saved_delay = {0, 0};
	bool delay_set = false;
	int r, type;

	st = send_parse_url(c->url, &implicit, &host, &port, err);
	if (st != ST_OK)
		goto done;
	where = xasprintf("%s %s:%u", implicit ? "smtps" : "smtp", host,
			  (unsigned int)port);
	str_sanitize(where);
	if (c->user != NULL && c->password_command == NULL) {
		st = err_set(err, ST_CONFIG,
			     "%s: user is set but password_command is not",
			     where);
		goto done;
	}
	if (c->user != NULL) {
		st = proc_secret("password_command", c->password_command,
				 (int)timeout, &pw, err);
		if (st != ST_OK)
			goto done;
	}

	s = mailsmtp_new(0, NULL);
	if (s == NULL) {
		st = err_set(err, ST_SOFTWARE, "%s: out of memory", where);
		goto done;
	}
	mailsmtp_set_timeout(s, timeout);
	/* mailsmtp_socket_connect reads the greeting on a stream opened
	 * without a timeout, i.e. with this global (default 5 minutes). */
	saved_delay = mailstream_network_delay;
	delay_set = true;
	mailstream_network_delay.tv_sec = timeout;
	mailstream_network_delay.tv_usec = 0;
	if (implicit) {
		r = mailsmtp_ssl_connect_with_callback(s, host, port,
						       tls_sni_cb, host);
		if (r != MAILSMTP_NO_ERROR) {
			st = send_step_fail(s, where, "connect", r, false, err);
			goto done;
		}
		st = tls_verify(s->stream, host, c->tls_ca_file, where, err);
		if (st != ST_OK)
			goto done;
		r = send_ehlo(s);
		if (r != MAILSMTP_NO_ERROR) {
			st = send_step_fail(s, where, "EHLO", r, false, err);
			goto done;
		}
	} else {
		r = mailsmtp_socket_connect(s, host, port);
		if (r != MAILSMTP_NO_ERROR) {
			st = send_step_fail(s, where, "connect", r, false, err);
			goto done;
		}
		r = send_ehlo(s);
		if (r != MAILSMTP_NO_ERROR) {
			st = send_step_fail(s, where, "EHLO", r, false, err);
			goto done;
		}
		if (!(s->esmtp & MAILSMTP_ESMTP_STARTTLS)) {
			st = err_set(err, ST_TEMPFAIL,
				     "%s: the server does not offer STARTTLS",
				     where);
			goto done;
		}
		r = mailsmtp_socket_starttls_with_callback(s, tls_sni_cb, host);
		if (r != MAILSMTP_NO_ERROR) {
			st = send_step_fail(s, where, "STARTTLS", r, false,
					    err);
			goto done;
		}
		st = tls_verify(s->stream, host, c->tls_ca_file, where, err);
		if (st != ST_OK)
			goto done;
		/* Until the second EHLO, s->auth holds the pre-TLS list. */
		r = send_ehlo(s);
		if (r != MAILSMTP_NO_ERROR) {
			st = send_step_fail(s, where, "EHLO", r, false, err);
			goto done;
		}
	}

	if (c->user != NULL) {
		if (s->auth & MAILSMTP_AUTH_PLAIN) {
			type = MAILSMTP_AUTH_PLAIN;
		} else if (s->auth & MAILSMTP_AUTH_LOGIN) {
			type = MAILSMTP_AUTH_LOGIN;
		} else {
			st = err_set(err, ST_TEMPFAIL,
				     "%s: the server offers neither AUTH PLAIN "
				     "nor AUTH LOGIN",
				     where);
			goto done;
		}
		r = mailsmtp_auth_type(s, c->user, pw, type);
		if (r != MAILSMTP_NO_ERROR) {
			char *line = send_reply_line(s);

			if (line != NULL && s->response_code >= 400)
				err_set(err, ST_TEMPFAIL,
					"%s: AUTH failed for %s: %s", where,
					c->user, line);
			else
				err_set(err, ST_TEMPFAIL,
					"%s: AUTH failed for %s: %s (is "
					"libsasl2-modules installed?)",
					where, c->user, send_etpan_error(r));
			free(line);
			st = ST_TEMPFAIL;
			goto done;
		}
	}

	r = mailsmtp_mail(s, from);
	if (r != MAILSMTP_NO_ERROR) {
		st = send_step_fail(s, where, "MAIL FROM", r, true, err);
		goto done;
	}
	r = mailsmtp_rcpt(s, to);
	if (r != MAILSMTP_NO_ERROR) {
		st = send_step_fail(s, where, "RCPT TO", r, true, err);
		goto done;
	}
	r = mailsmtp_data(s);
	if (r != MAILSMTP_NO_ERROR) {
		st = send_step_fail(s, where, "DATA", r, true, err);
		goto done;
	}
	r = mailsmtp_data_message(s, msg, len);
	if (r != MAILSMTP_NO_ERROR) {
		st = send_step_fail(s, where, "message", r, true, err);
		goto done;
	}
	st = ST_OK;
	if (reply != NULL)
		*reply = send_reply_line(s);
	mailsmtp_quit(s); /* the message is accepted whatever QUIT says */
	mailsmtp_free(s);
	s = NULL;
done:
	if (s != NULL) {
		if (reply != NULL)
			*reply = send_reply_line(s);
		mailsmtp_free(s);
	}
	if (delay_set)
		mailstream_network_delay = saved_delay;
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	free(where);
	free(host);
	return st;
}

status_t send_message(const send_config_t *c, const char *from, const char *to,
		      const char *message, size_t len, char **smtp_reply,
		      err_t *err)
{
	status_t st;
	struct sigaction ign, old;
	bool restore = false;

	if (smtp_reply != NULL)
		*smtp_reply = NULL;
	if (c == NULL) {
		st = err_set(err, ST_CONFIG, "send: no configuration");
		goto done;
	}
	if (!ident_addr_sendable(from)) {
		st = err_set(err, ST_USAGE, "send: invalid envelope sender");
		goto done;
	}
	if (!ident_addr_sendable(to)) {
		st = err_set(err, ST_USAGE, "send: invalid envelope recipient");
		goto done;
	}
	if (message == NULL)
		len = 0;

	/* A peer that goes away must not kill us while we write. */
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGPIPE, &ign, &old) == 0)
		restore = true;

	if (c->url != NULL)
		st = send_smtp(c, from, to, message != NULL ? message : "", len,
			       smtp_reply, err);
	else if (c->sendmail != NULL && c->sendmail->n > 0)
		st = send_sendmail(c->sendmail, from, to,
				   message != NULL ? message : "", len,
				   c->timeout_s > 0 ? c->timeout_s
						    : SEND_TIMEOUT_DEFAULT,
				   smtp_reply, err);
	else
		st = err_set(
			err, ST_CONFIG,
			"send: neither an smtp url nor a sendmail command");
done:
	if (restore)
		sigaction(SIGPIPE, &old, NULL);
	return st;
}
