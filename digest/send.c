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

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "ident.h"

#define SEND_TIMEOUT_DEFAULT 30
#define SEND_PORT_STARTTLS   587
#define SEND_PORT_TLS        465
#define SEND_PASSWORD_MAX    4096 /* bytes of password_command output kept */
#define SEND_EX_TEMPFAIL     75   /* sysexits.h EX_TEMPFAIL */

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

/* Wait for pid, retrying on EINTR; the raw status, or -1. */
static int send_wait(pid_t pid)
{
	int ws;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	return ws;
}

/* Run cmd through /bin/sh -c and take the first line of its stdout as the
 * password.  *pw is the caller's (wipe, then free). */
static status_t send_password(const char *cmd, char **pw, err_t *err)
{
	status_t st = ST_TEMPFAIL;
	int fds[2] = {-1, -1};
	pid_t pid = -1;
	strbuf_t b = {0};
	char buf[512];
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	const char *s;
	size_t n;
	int ws;

	*pw = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		err_set(err, st, "password_command: pipe: %s", strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		err_set(err, st, "password_command: fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv("/bin/sh", argv);
		_exit(127);
	}
	close(fds[1]);
	fds[1] = -1;
	for (;;) {
		ssize_t r = read(fds[0], buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(err, st, "password_command: read: %s",
			        strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		if (b.len < SEND_PASSWORD_MAX)
			sb_add(&b, buf, (size_t)r);
	}
	explicit_bzero(buf, sizeof buf);
	ws = send_wait(pid);
	pid = -1;
	if (ws < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		if (ws >= 0 && WIFSIGNALED(ws))
			err_set(err, st, "password_command killed by signal %d",
			        WTERMSIG(ws));
		else
			err_set(err, st, "password_command failed (exit %d)",
			        ws >= 0 && WIFEXITED(ws) ? WEXITSTATUS(ws)
			                                 : -1);
		goto done;
	}
	s = b.s != NULL ? b.s : "";
	n = strcspn(s, "\n");
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 0) {
		err_set(err, st, "password_command printed no password");
		goto done;
	}
	*pw = xstrndup(s, n);
	st = ST_OK;
done:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (pid > 0)
		send_wait(pid);
	if (b.s != NULL)
		explicit_bzero(b.s, b.cap);
	sb_free(&b);
	return st;
}

/* The sendmail backend: argv + "-i -f FROM -- TO", message on stdin with
 * LF line endings. */
static status_t send_sendmail(const strvec_t *cmd, const char *from,
                              const char *to, const char *msg, size_t len,
                              char **reply, err_t *err)
{
	status_t st = ST_TEMPFAIL;
	char **argv = NULL;
	int in[2] = {-1, -1}, ep[2] = {-1, -1};
	pid_t pid = -1;
	strbuf_t body = {0};
	size_t i, start, off;
	int werr = 0, ws, e = 0, code;
	ssize_t r;

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

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
		err_set(err, st, "sendmail: pipe: %s", strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		err_set(err, st, "sendmail: fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		if (dup2(in[0], STDIN_FILENO) >= 0)
			execv(argv[0], argv);
		e = errno;
		if (write(ep[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(in[0]);
	in[0] = -1;
	close(ep[1]);
	ep[1] = -1;

	/* EOF on ep means the exec succeeded (close-on-exec). */
	while ((r = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	if (r == (ssize_t)sizeof e) {
		send_wait(pid);
		pid = -1;
		st = err_set(err, ST_CONFIG, "sendmail: cannot run %s: %s",
		             argv[0], strerror(e));
		goto done;
	}

	for (off = 0; off < body.len;) {
		r = write(in[1], body.s + off, body.len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			werr = errno;
			break;
		}
		off += (size_t)r;
	}
	close(in[1]);
	in[1] = -1;
	ws = send_wait(pid);
	pid = -1;
	if (ws < 0) {
		err_set(err, st, "sendmail: waitpid: %s", strerror(errno));
		goto done;
	}
	if (WIFSIGNALED(ws)) {
		if (reply != NULL)
			*reply = xasprintf("sendmail signal %d", WTERMSIG(ws));
		err_set(err, st, "sendmail: killed by signal %d", WTERMSIG(ws));
		goto done;
	}
	code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	if (reply != NULL)
		*reply = xasprintf("sendmail exit %d", code);
	if (code == 0 && werr != 0) {
		err_set(err, st,
		        "sendmail: exited 0 without reading the "
		        "whole message: %s",
		        strerror(werr));
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
	if (pid > 0)
		send_wait(pid);
	for (i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	sb_free(&body);
	free(argv);
	return st;
}

/* The trust list: tls_ca_file alone, or the system CAs. */
static status_t send_trust_load(const char *ca_file,
                                gnutls_x509_trust_list_t *out, err_t *err)
{
	status_t st = ST_OK;
	gnutls_x509_trust_list_t tl = NULL;
	int r;

	*out = NULL;
	r = gnutls_x509_trust_list_init(&tl, 0);
	if (r < 0) {
		st = err_set(err, ST_SOFTWARE, "TLS: trust list: %s",
		             gnutls_strerror(r));
		tl = NULL;
		goto done;
	}
	if (ca_file != NULL) {
		r = gnutls_x509_trust_list_add_trust_file(
		    tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
		if (r <= 0) {
			st = err_set(
			    err, ST_CONFIG,
			    "tls_ca_file %s: no CA certificate loaded%s%s",
			    ca_file, r < 0 ? ": " : "",
			    r < 0 ? gnutls_strerror(r) : "");
			goto done;
		}
	} else {
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
		if (r <= 0) {
			st = err_set(err, ST_TEMPFAIL,
			             "TLS: no system CA certificates (is "
			             "ca-certificates installed?)");
			goto done;
		}
	}
	*out = tl;
	tl = NULL;
done:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	return st;
}

/* Verify the peer's chain on stream against tl, host name included. */
static status_t send_verify(mailstream *stream, gnutls_x509_trust_list_t tl,
                            const char *where, const char *host, err_t *err)
{
	status_t st = ST_TEMPFAIL;
	carray *chain = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned int n = 0, count, vstatus = 0;
	gnutls_datum_t out = {NULL, 0};
	gnutls_typed_vdata_st vd = {GNUTLS_DT_DNS_HOSTNAME,
	                            (unsigned char *)host, 0};
	int r;

	if (stream != NULL)
		chain = mailstream_get_certificate_chain(stream);
	if (chain == NULL || carray_count(chain) == 0) {
		err_set(err, st, "%s: TLS: the server sent no certificate",
		        where);
		goto done;
	}
	count = carray_count(chain);
	crts = xcalloc(count, sizeof *crts);
	for (unsigned int i = 0; i < count; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = {(unsigned char *)der->str,
		                    (unsigned int)der->len};

		if (gnutls_x509_crt_init(&crts[n]) < 0) {
			err_set(err, st, "%s: TLS: out of memory", where);
			goto done;
		}
		n++;
		r = gnutls_x509_crt_import(crts[i], &d, GNUTLS_X509_FMT_DER);
		if (r < 0) {
			err_set(err, st, "%s: TLS: bad server certificate: %s",
			        where, gnutls_strerror(r));
			goto done;
		}
	}
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, n, &vd, 1, 0, &vstatus,
	                                       NULL);
	if (r < 0) {
		err_set(err, st, "%s: TLS: certificate check failed: %s", where,
		        gnutls_strerror(r));
		goto done;
	}
	if (vstatus != 0) {
		if (gnutls_certificate_verification_status_print(
		        vstatus, GNUTLS_CRT_X509, &out, 0) < 0)
			out.data = NULL;
		while (out.data != NULL && out.size > 0 &&
		       out.data[out.size - 1] == ' ')
			out.data[--out.size] = '\0';
		err_set(err, st, "%s: TLS: certificate not accepted for %s: %s",
		        where, host,
		        out.data != NULL ? (const char *)out.data : "rejected");
		goto done;
	}
	st = ST_OK;
done:
	gnutls_free(out.data);
	for (unsigned int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return st;
}

/* SNI for host names (not for address literals, RFC 6066 §3). */
static void send_sni_cb(struct mailstream_ssl_context *ctx, void *data)
{
	const char *host = data;
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return;
	mailstream_ssl_set_server_name(ctx, (char *)host);
}

/* The last line of the session's last reply as "CODE text", sanitized;
 * NULL when there was none.  Caller frees. */
static char *send_reply_line(const mailsmtp *s)
{
	const char *r, *line, *end;
	char *out;

	if (s == NULL || s->response == NULL || s->response_code <= 0)
		return NULL;
	r = s->response;
	end = r + strlen(r);
	while (end > r && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	line = end;
	while (line > r && line[-1] != '\n')
		line--;
	out = xasprintf("%d %.*s", s->response_code, (int)(end - line), line);
	return str_sanitize(out);
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

static status_t send_smtp(const send_config_t *c, const char *from,
                          const char *to, const char *msg, size_t len,
                          char **reply, err_t *err)
{
	status_t st = ST_OK;
	bool implicit = false;
	char *host = NULL, *where = NULL, *pw = NULL;
	uint16_t port = 0;
	gnutls_x509_trust_list_t tl = NULL;
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
	st = send_trust_load(c->tls_ca_file, &tl, err);
	if (st != ST_OK)
		goto done;
	if (c->user != NULL) {
		st = send_password(c->password_command, &pw, err);
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
		                                       send_sni_cb, host);
		if (r != MAILSMTP_NO_ERROR) {
			st = send_step_fail(s, where, "connect", r, false, err);
			goto done;
		}
		st = send_verify(s->stream, tl, where, host, err);
		if (st != ST_OK)
			goto done;
		r = mailesmtp_ehlo(s);
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
		r = mailesmtp_ehlo(s);
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
		r = mailsmtp_socket_starttls_with_callback(s, send_sni_cb,
		                                           host);
		if (r != MAILSMTP_NO_ERROR) {
			st =
			    send_step_fail(s, where, "STARTTLS", r, false, err);
			goto done;
		}
		st = send_verify(s->stream, tl, where, host, err);
		if (st != ST_OK)
			goto done;
		/* Until the second EHLO, s->auth holds the pre-TLS list. */
		r = mailesmtp_ehlo(s);
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
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
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
		                   smtp_reply, err);
	else
		st =
		    err_set(err, ST_CONFIG,
		            "send: neither an smtp url nor a sendmail command");
done:
	if (restore)
		sigaction(SIGPIPE, &old, NULL);
	return st;
}
