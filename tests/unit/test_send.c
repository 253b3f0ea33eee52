/*
 * test_send — send_message against real SMTP servers on 127.0.0.1
 * (tests/e2e/smtp_server.py, aiosmtpd) with a throwaway CA made by openssl
 * at test time: STARTTLS and implicit TLS delivery with AUTH, wrong
 * password, failing password_command, nobody listening, untrusted CA,
 * wrong host name, 451 on RCPT, bad envelope addresses and URLs; and the
 * sendmail backend against stub scripts (argv, LF line endings, exit
 * codes).  Everything is skipped when python3 with aiosmtpd or openssl is
 * missing.  The script is found in the source tree the build came from.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setenv, kill */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "send.h"
#include "testlib.h"

#define FROM "digest@example.com"
#define TO   "alex@example.com"
#define MSG                                                                    \
	"From: Digest <digest@example.com>\r\n"                                \
	"To: alex@example.com\r\n"                                             \
	"Subject: test digest\r\n"                                             \
	"\r\n"                                                                 \
	"Hello Alex.\r\n"                                                      \
	".a line starting with a dot\r\n"                                      \
	"bye\r\n"

enum { SRV_STARTTLS, SRV_TLS, SRV_WRONGNAME, SRV_FAILRCPT, SRV_N };

static struct {
	bool skip;
	char *dir, *python, *script, *ca;
	pid_t pid[SRV_N];
	int port[SRV_N];
	char *maildir[SRV_N];
	int down_fd, down_port;
} g = {.down_fd = -1};

/* ---- helpers -------------------------------------------------------- */

static void put(const char *path, const char *data, mode_t mode)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int count_eml(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (str_iends(e->d_name, ".eml"))
			n++;
	closedir(d);
	return n;
}

/* A socket bound to 127.0.0.1 on a kernel-chosen port; *port gets it. */
static int bound_socket(int *port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int free_port(void)
{
	int port = -1, fd = bound_socket(&port);

	if (fd >= 0)
		close(fd);
	return port;
}

/* Start smtp_server.py; 0 once it said "ready" (within 20 s). */
static int server_start(int i, const char *mode, const char *cert,
			const char *key, bool fail_rcpt)
{
	char port[16], line[64];
	size_t got = 0;
	int fds[2];
	pid_t pid;
	time_t deadline = time(NULL) + 20;

	g.port[i] = free_port();
	snprintf(port, sizeof port, "%d", g.port[i]);
	g.maildir[i] = xasprintf("%s/mail%d", g.dir, i);
	if (g.port[i] <= 0 || mkdir(g.maildir[i], 0700) < 0 || pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = {g.python,     g.script,     "--port",
				port,         "--mode",     (char *)mode,
				"--cert",     (char *)cert, "--key",
				(char *)key,  "--user",     "digest",
				"--password", "secret",     "--maildir",
				g.maildir[i], NULL,         NULL};
		if (fail_rcpt)
			argv[16] = "--fail-rcpt";
		/* Do not outlive a test killed by a timeout. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	g.pid[i] = pid;
	close(fds[1]);
	line[0] = '\0';
	while (got < sizeof line - 1 && strchr(line, '\n') == NULL) {
		struct pollfd p = {fds[0], POLLIN, 0};
		int left = (int)(deadline - time(NULL));
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left * 1000) <= 0)
			break;
		r = read(fds[0], line + got, sizeof line - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		line[got] = '\0';
	}
	close(fds[0]);
	return strncmp(line, "ready\n", 6) == 0 ? 0 : -1;
}

static void server_stop(int i)
{
	int ws;

	if (g.pid[i] <= 0)
		return;
	kill(g.pid[i], SIGTERM);
	for (int t = 0; t < 50; t++) {
		if (waitpid(g.pid[i], &ws, WNOHANG) == g.pid[i]) {
			g.pid[i] = 0;
			return;
		}
		usleep(100000);
	}
	kill(g.pid[i], SIGKILL);
	waitpid(g.pid[i], &ws, 0);
	g.pid[i] = 0;
}

static bool have_aiosmtpd(const char *py)
{
	char *cmd = xasprintf("%s -c 'import aiosmtpd' >/dev/null 2>&1", py);
	int r = system(cmd);

	free(cmd);
	return r == 0;
}

/* CA, a server certificate for 127.0.0.1 + localhost, and one for
 * wrong.example only, all signed by the CA. */
static int make_certs(void)
{
	static const char cnf[] = "[req]\n"
				  "distinguished_name = dn\n"
				  "x509_extensions = v3_ca\n"
				  "prompt = no\n"
				  "[dn]\n"
				  "CN = digest test CA\n"
				  "[v3_ca]\n"
				  "basicConstraints = critical,CA:TRUE\n"
				  "keyUsage = critical,keyCertSign,cRLSign\n"
				  "subjectKeyIdentifier = hash\n";
	static const char ext[] =
		"basicConstraints = CA:FALSE\n"
		"keyUsage = critical,digitalSignature,keyEncipherment\n"
		"extendedKeyUsage = serverAuth\n"
		"authorityKeyIdentifier = keyid\n"
		"subjectAltName = @alt\n"
		"[alt]\n";
	char *p, *cmd;
	int r;

	p = xasprintf("%s/ca.cnf", g.dir);
	put(p, cnf, 0600);
	free(p);
	p = xasprintf("%s/good.ext", g.dir);
	{
		char *s = xasprintf("%sIP.1 = 127.0.0.1\nDNS.1 = localhost\n",
				    ext);
		put(p, s, 0600);
		free(s);
	}
	free(p);
	p = xasprintf("%s/wrong.ext", g.dir);
	{
		char *s = xasprintf("%sDNS.1 = wrong.example\n", ext);
		put(p, s, 0600);
		free(s);
	}
	free(p);
	cmd = xasprintf(
		"cd '%s' && exec >openssl.log 2>&1 && "
		"openssl req -x509 -config ca.cnf -newkey ec "
		"-pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
		"-out ca.pem -days 2 && "
		"for n in good wrong; do "
		"openssl req -new -newkey ec "
		"-pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n.key "
		"-out $n.csr -subj /CN=$n -config ca.cnf && "
		"openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key "
		"-set_serial $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') "
		"-days 2 -extfile $n.ext -out $n.pem || exit 1; done",
		g.dir);
	r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

static int setup(void **state)
{
	const char *py = getenv("PYTHON");
	char *good, *goodk, *wrong, *wrongk;
	int r = 0;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	g.script = test_src_path("tests/e2e/smtp_server.py");
	if (py != NULL && have_aiosmtpd(py))
		g.python = xstrdup(py);
	else if (have_aiosmtpd("/usr/bin/python3"))
		g.python = xstrdup("/usr/bin/python3");
	else if (have_aiosmtpd("python3"))
		g.python = xstrdup("python3");
	if (g.python == NULL ||
	    system("openssl version >/dev/null 2>&1") != 0 ||
	    access(g.script, R_OK) != 0) {
		g.skip = true;
		return 0;
	}
	g.dir = test_tmpdir("send");
	if (make_certs() < 0) {
		fprintf(stderr,
			"test_send: openssl failed, see %s/openssl.log\n",
			g.dir);
		return -1;
	}
	g.ca = xasprintf("%s/ca.pem", g.dir);
	good = xasprintf("%s/good.pem", g.dir);
	goodk = xasprintf("%s/good.key", g.dir);
	wrong = xasprintf("%s/wrong.pem", g.dir);
	wrongk = xasprintf("%s/wrong.key", g.dir);
	if (server_start(SRV_STARTTLS, "starttls", good, goodk, false) < 0 ||
	    server_start(SRV_TLS, "tls", good, goodk, false) < 0 ||
	    server_start(SRV_WRONGNAME, "starttls", wrong, wrongk, false) < 0 ||
	    server_start(SRV_FAILRCPT, "starttls", good, goodk, true) < 0) {
		fprintf(stderr, "test_send: smtp_server.py did not start\n");
		r = -1;
	}
	/* Bound but not listening: connections are refused. */
	g.down_fd = bound_socket(&g.down_port);
	if (g.down_fd < 0)
		r = -1;
	free(good);
	free(goodk);
	free(wrong);
	free(wrongk);
	return r;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < SRV_N; i++) {
		server_stop(i);
		free(g.maildir[i]);
	}
	if (g.down_fd >= 0)
		close(g.down_fd);
	if (g.dir != NULL && getenv("TEST_SEND_KEEP") == NULL)
		test_rmtree(g.dir);
	free(g.dir);
	free(g.python);
	free(g.script);
	free(g.ca);
	return 0;
}

#define SKIP_IF_NEEDED()                                                       \
	do {                                                                   \
		if (g.skip)                                                    \
			skip();                                                \
	} while (0)

/* A config for server i (scheme by its mode) trusting the test CA. */
static send_config_t cfg(int i, char *url, size_t urlsz)
{
	send_config_t c = {0};

	snprintf(url, urlsz, "%s://127.0.0.1:%d",
		 i == SRV_TLS ? "smtps" : "smtp", g.port[i]);
	c.url = url;
	c.user = "digest";
	c.password_command = "echo secret";
	c.tls_ca_file = g.ca;
	c.timeout_s = 5;
	return c;
}

static status_t send_to(const send_config_t *c, char **reply, err_t *err)
{
	return send_message(c, FROM, TO, MSG, strlen(MSG), reply, err);
}

/* The newest message in server i's maildir has our body and envelope. */
static void assert_delivered(int i, int n)
{
	char *p = xasprintf("%s/%d.eml", g.maildir[i], n);
	char *e = xasprintf("%s/%d.envelope", g.maildir[i], n);
	char *data = test_slurp(p, NULL), *env = test_slurp(e, NULL);

	assert_non_null(data);
	assert_non_null(strstr(data, "Subject: test digest\r\n\r\nHello Alex."
				     "\r\n.a line starting with a dot\r\n"
				     "bye\r\n"));
	assert_non_null(env);
	assert_string_equal(env, FROM "\n" TO "\n");
	free(data);
	free(env);
	free(p);
	free(e);
}

/* ---- SMTP ----------------------------------------------------------- */

static void test_starttls_auth_plain(void **state)
{
	char url[64], *reply = NULL;
	err_t err = {0};
	send_config_t c;
	int before;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_STARTTLS, url, sizeof url);
	before = count_eml(g.maildir[SRV_STARTTLS]);
	assert_int_equal(send_to(&c, &reply, &err), ST_OK);
	assert_non_null(reply);
	assert_true(str_starts(reply, "250 "));
	assert_int_equal(count_eml(g.maildir[SRV_STARTTLS]), before + 1);
	assert_delivered(SRV_STARTTLS, before + 1);
	free(reply);
}

static void test_implicit_tls(void **state)
{
	char url[64], *reply = NULL;
	err_t err = {0};
	send_config_t c;
	int before;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_TLS, url, sizeof url);
	before = count_eml(g.maildir[SRV_TLS]);
	assert_int_equal(send_to(&c, &reply, &err), ST_OK);
	assert_non_null(reply);
	assert_true(str_starts(reply, "250 "));
	assert_int_equal(count_eml(g.maildir[SRV_TLS]), before + 1);
	assert_delivered(SRV_TLS, before + 1);
	free(reply);
}

/* Is localhost a name for 127.0.0.1 in /etc/hosts?  Read directly: a
 * loopback test must not wait for a resolver that may not answer. */
static bool localhost_in_hosts(void)
{
	FILE *f = fopen("/etc/hosts", "r");
	char line[512];
	bool found = false;

	while (f && !found && fgets(line, sizeof line, f)) {
		char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);

		if (!w || strcmp(w, "127.0.0.1") != 0)
			continue;
		while (!found && (w = strtok_r(NULL, " \t\r\n", &save)) &&
		       *w != '#')
			found = strcmp(w, "localhost") == 0;
	}
	if (f)
		fclose(f);
	return found;
}

static void test_localhost_name(void **state)
{
	char url[64];
	err_t err = {0};
	send_config_t c;

	(void)state;
	SKIP_IF_NEEDED();
	if (!localhost_in_hosts()) {
		fprintf(stderr, "skipped: /etc/hosts does not name 127.0.0.1 "
				"localhost\n");
		skip();
	}
	c = cfg(SRV_TLS, url, sizeof url);
	snprintf(url, sizeof url, "smtps://localhost:%d/", g.port[SRV_TLS]);
	/* localhost may resolve to ::1 first, where nobody listens; the
	 * certificate covers the name either way. */
	assert_int_equal(send_to(&c, NULL, &err), ST_OK);
}

static void test_wrong_password(void **state)
{
	char url[64], *reply = NULL;
	err_t err = {0};
	send_config_t c;
	int before;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_STARTTLS, url, sizeof url);
	c.password_command = "printf 'hunter2\\nsecret\\n'";
	before = count_eml(g.maildir[SRV_STARTTLS]);
	assert_int_equal(send_to(&c, &reply, &err), ST_TEMPFAIL);
	assert_int_equal(err.status, ST_TEMPFAIL);
	assert_null(strstr(err.msg, "hunter2"));
	assert_non_null(strstr(err.msg, "AUTH"));
	assert_non_null(reply);
	assert_true(str_starts(reply, "535"));
	assert_null(strstr(reply, "hunter2"));
	assert_int_equal(count_eml(g.maildir[SRV_STARTTLS]), before);
	free(reply);
}

static void test_password_command_fails(void **state)
{
	char url[64];
	err_t err = {0};
	send_config_t c;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_STARTTLS, url, sizeof url);
	c.password_command = "echo secret; exit 3";
	assert_int_equal(send_to(&c, NULL, &err), ST_TEMPFAIL);
	assert_non_null(strstr(err.msg, "exit 3"));
	assert_null(strstr(err.msg, "secret"));
	c.password_command = "true"; /* prints nothing */
	assert_int_equal(send_to(&c, NULL, &err), ST_TEMPFAIL);
	c.password_command = NULL; /* user without a password source */
	assert_int_equal(send_to(&c, NULL, &err), ST_CONFIG);
}

static void test_server_down(void **state)
{
	char url[64], *reply = NULL;
	err_t err = {0};
	send_config_t c;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_STARTTLS, url, sizeof url);
	snprintf(url, sizeof url, "smtp://127.0.0.1:%d", g.down_port);
	assert_int_equal(send_to(&c, &reply, &err), ST_TEMPFAIL);
	assert_null(reply);
	snprintf(url, sizeof url, "smtps://127.0.0.1:%d", g.down_port);
	assert_int_equal(send_to(&c, &reply, &err), ST_TEMPFAIL);
	assert_null(reply);
}

static void test_server_silent(void **state)
{
	char url[64];
	err_t err = {0};
	send_config_t c;
	time_t t0;
	int port = 0, fd;

	(void)state;
	SKIP_IF_NEEDED();
	/* Listening, so connect succeeds, but nobody ever answers. */
	fd = bound_socket(&port);
	assert_true(fd >= 0);
	assert_int_equal(listen(fd, 4), 0);
	c = cfg(SRV_STARTTLS, url, sizeof url);
	snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
	t0 = time(NULL);
	assert_int_equal(send_to(&c, NULL, &err), ST_TEMPFAIL);
	snprintf(url, sizeof url, "smtps://127.0.0.1:%d", port);
	assert_int_equal(send_to(&c, NULL, &err), ST_TEMPFAIL);
	assert_true(time(NULL) - t0 < 30);
	close(fd);
}

/* A relay whose EHLO reply has a tab among its AUTH mechanisms, on which
 * libetpan alone loops for ever: refused (no STARTTLS) within seconds,
 * whether the reply comes when asked or, already buffered, in the same
 * packet as the greeting. */
static void test_ehlo_tab(void **state)
{
	static const char ehlo[] = "250-relay.example\r\n"
				   "250-AUTH PLAIN\tLOGIN\r\n"
				   "250 SIZE 1000\r\n";
	char url[64], buf[512];
	(void)state;

	for (int early = 0; early < 2; early++) {
		err_t err = {0};
		send_config_t c = {.url = url, .timeout_s = 5};
		int port = 0, fd = bound_socket(&port), ws;
		pid_t pid;

		assert_true(fd >= 0);
		assert_int_equal(listen(fd, 1), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			int conn = accept(fd, NULL, NULL);

			dprintf(conn, "220 relay.example ESMTP\r\n%s",
				early ? ehlo : "");
			if (read(conn, buf, sizeof buf) > 0 && !early)
				dprintf(conn, "%s", ehlo);
			while (read(conn, buf, sizeof buf) > 0)
				;
			_exit(0);
		}
		close(fd);
		snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
		alarm(20); /* the loop, if it comes back, ends the test */
		assert_int_equal(send_to(&c, NULL, &err), ST_TEMPFAIL);
		alarm(0);
		assert_non_null(strstr(err.msg, "does not offer STARTTLS"));
		kill(pid, SIGKILL);
		waitpid(pid, &ws, 0);
	}
}

static void test_untrusted_ca(void **state)
{
	char url[64];
	err_t err = {0};
	send_config_t c;
	int before = 0, before_tls;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_STARTTLS, url, sizeof url);
	c.tls_ca_file = NULL; /* the system CAs do not know our test CA */
	before = count_eml(g.maildir[SRV_STARTTLS]);
	assert_int_equal(send_to(&c, NULL, &err), ST_TEMPFAIL);
	assert_non_null(strstr(err.msg, "TLS"));
	assert_int_equal(count_eml(g.maildir[SRV_STARTTLS]), before);

	c = cfg(SRV_TLS, url, sizeof url);
	c.tls_ca_file = NULL;
	before_tls = count_eml(g.maildir[SRV_TLS]);
	assert_int_equal(send_to(&c, NULL, &err), ST_TEMPFAIL);
	assert_int_equal(count_eml(g.maildir[SRV_TLS]), before_tls);
}

static void test_trusted_ca_file(void **state)
{
	char url[64];
	err_t err = {0};
	send_config_t c;
	char *bad;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_STARTTLS, url, sizeof url); /* tls_ca_file = test CA */
	assert_int_equal(send_to(&c, NULL, &err), ST_OK);
	bad = xasprintf("%s/missing.pem", g.dir);
	c.tls_ca_file = bad;
	assert_int_equal(send_to(&c, NULL, &err), ST_CONFIG);
	free(bad);
}

static void test_wrong_host_name(void **state)
{
	char url[64];
	err_t err = {0};
	send_config_t c;
	int before;

	(void)state;
	SKIP_IF_NEEDED();
	/* Signed by the trusted CA, but for wrong.example only. */
	c = cfg(SRV_WRONGNAME, url, sizeof url);
	before = count_eml(g.maildir[SRV_WRONGNAME]);
	assert_int_equal(send_to(&c, NULL, &err), ST_TEMPFAIL);
	assert_non_null(strstr(err.msg, "TLS"));
	assert_int_equal(count_eml(g.maildir[SRV_WRONGNAME]), before);
}

static void test_rcpt_451(void **state)
{
	char url[64], *reply = NULL;
	err_t err = {0};
	send_config_t c;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_FAILRCPT, url, sizeof url);
	assert_int_equal(send_to(&c, &reply, &err), ST_TEMPFAIL);
	assert_non_null(reply);
	assert_true(str_starts(reply, "451 "));
	assert_non_null(strstr(err.msg, "RCPT"));
	assert_int_equal(count_eml(g.maildir[SRV_FAILRCPT]), 0);
	free(reply);
}

static void test_rcpt_550(void **state)
{
	char url[64], *reply = NULL;
	err_t err = {0};
	send_config_t c;
	int before;

	(void)state;
	SKIP_IF_NEEDED();
	c = cfg(SRV_STARTTLS, url, sizeof url);
	before = count_eml(g.maildir[SRV_STARTTLS]);
	assert_int_equal(send_message(&c, FROM, "reject@example.com", MSG,
				      strlen(MSG), &reply, &err),
			 ST_DATAERR);
	assert_non_null(reply);
	assert_true(str_starts(reply, "550 "));
	assert_int_equal(count_eml(g.maildir[SRV_STARTTLS]), before);
	free(reply);
}

/* ---- no server needed ----------------------------------------------- */

static void test_bad_envelope(void **state)
{
	static const char *bad[] = {
		"a@b.example\r\nRCPT TO:<x@y.example>",
		"a@b.example\n",
		"<a@b.example>",
		"a@b.example>",
		"a b@example.com",
		"nobody",
		"@example.com",
		"a@",
		"",
	};
	send_config_t c = {.url = "smtp://127.0.0.1:1", .timeout_s = 5};
	err_t err = {0};
	char *reply = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(send_message(&c, bad[i], TO, MSG, strlen(MSG),
					      &reply, &err),
				 ST_USAGE);
		assert_int_equal(send_message(&c, FROM, bad[i], MSG,
					      strlen(MSG), &reply, &err),
				 ST_USAGE);
		assert_null(reply);
	}
	assert_int_equal(
		send_message(&c, FROM, NULL, MSG, strlen(MSG), NULL, &err),
		ST_USAGE);
}

static void test_bad_url(void **state)
{
	static const char *bad[] = {
		"http://127.0.0.1",
		"smtp://",
		"smtp://:25",
		"smtp://user:pw0rd@127.0.0.1",
		"smtp://127.0.0.1:99999",
		"smtp://127.0.0.1:0",
		"smtp://127.0.0.1:25x",
		"smtp://127.0.0.1:",
		"smtp://127.0.0.1/path",
		"smtp://[::1",
		"smtp://host name",
	};
	send_config_t c = {.timeout_s = 5};
	err_t err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		c.url = bad[i];
		assert_int_equal(send_message(&c, FROM, TO, MSG, strlen(MSG),
					      NULL, &err),
				 ST_CONFIG);
		assert_null(strstr(err.msg, "pw0rd"));
	}
	c.url = NULL; /* and no sendmail either */
	assert_int_equal(
		send_message(&c, FROM, TO, MSG, strlen(MSG), NULL, &err),
		ST_CONFIG);
}

/* ---- sendmail ------------------------------------------------------- */

/* A stub that records its arguments and stdin next to itself. */
static char *stub(const char *dir, const char *name, int code)
{
	char *p = xasprintf("%s/%s", dir, name);
	char *s = xasprintf("#!/bin/sh\n"
			    "d=$(dirname \"$0\")\n"
			    "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done"
			    " >\"$d/args.txt\"\n"
			    "cat >\"$d/stdin.txt\"\n"
			    "exit %d\n",
			    code);
	put(p, s, 0700);
	free(s);
	return p;
}

static void test_sendmail(void **state)
{
	char *dir, *ok, *tf, *fail, *args, *in, *reply = NULL, *missing;
	strvec_t argv = {0};
	send_config_t c = {.timeout_s = 5};
	err_t err = {0};
	const char *msg = "Subject: x\r\n\r\nline 1\r\n.\r\nbare\rcr\r\nend";

	(void)state;
	dir = test_tmpdir("send-sm");
	ok = stub(dir, "ok.sh", 0);
	tf = stub(dir, "tempfail.sh", 75);
	fail = stub(dir, "fail.sh", 1);
	args = xasprintf("%s/args.txt", dir);
	in = xasprintf("%s/stdin.txt", dir);
	c.sendmail = &argv;

	strvec_push(&argv, ok);
	strvec_push(&argv, "-oem");
	assert_int_equal(
		send_message(&c, FROM, TO, msg, strlen(msg), &reply, &err),
		ST_OK);
	assert_string_equal(reply, "sendmail exit 0");
	free(reply);
	{
		char *a = test_slurp(args, NULL), *s = test_slurp(in, NULL);
		assert_string_equal(a, "-oem\n-i\n-f\n" FROM "\n--\n" TO "\n");
		assert_string_equal(s,
				    "Subject: x\n\nline 1\n.\nbare\rcr\nend");
		free(a);
		free(s);
	}

	free(argv.v[0]);
	argv.v[0] = xstrdup(tf);
	assert_int_equal(
		send_message(&c, FROM, TO, msg, strlen(msg), &reply, &err),
		ST_TEMPFAIL);
	assert_string_equal(reply, "sendmail exit 75");
	free(reply);

	free(argv.v[0]);
	argv.v[0] = xstrdup(fail);
	assert_int_equal(
		send_message(&c, FROM, TO, msg, strlen(msg), &reply, &err),
		ST_DATAERR);
	assert_string_equal(reply, "sendmail exit 1");
	assert_non_null(strstr(err.msg, "exit 1"));
	free(reply);

	missing = xasprintf("%s/no-such-sendmail", dir);
	free(argv.v[0]);
	argv.v[0] = missing;
	assert_int_equal(
		send_message(&c, FROM, TO, msg, strlen(msg), &reply, &err),
		ST_CONFIG);
	assert_null(reply);

	/* A sendmail that hangs is killed at the timeout: a temporary
	 * failure, the next run tries again. */
	char *hang = xasprintf("%s/hang.sh", dir);
	put(hang, "#!/bin/sh\ncat >/dev/null\nsleep 60\n", 0700);
	free(argv.v[0]);
	argv.v[0] = hang;
	c.timeout_s = 1;
	time_t t0 = time(NULL);
	assert_int_equal(
		send_message(&c, FROM, TO, msg, strlen(msg), &reply, &err),
		ST_TEMPFAIL);
	assert_true(time(NULL) - t0 < 10);
	assert_string_equal(err.msg, "sendmail timed out after 1s");
	assert_null(reply);

	strvec_free(&argv);
	test_rmtree(dir);
	free(dir);
	free(ok);
	free(tf);
	free(fail);
	free(args);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starttls_auth_plain),
		cmocka_unit_test(test_implicit_tls),
		cmocka_unit_test(test_localhost_name),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_password_command_fails),
		cmocka_unit_test(test_server_down),
		cmocka_unit_test(test_server_silent),
		cmocka_unit_test(test_ehlo_tab),
		cmocka_unit_test(test_untrusted_ca),
		cmocka_unit_test(test_trusted_ca_file),
		cmocka_unit_test(test_wrong_host_name),
		cmocka_unit_test(test_rcpt_451),
		cmocka_unit_test(test_rcpt_550),
		cmocka_unit_test(test_bad_envelope),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_sendmail),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
