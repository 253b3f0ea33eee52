/*
 * proc — commands with a deadline, in a process group of their own that
 * is killed when the deadline passes.  See proc.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, explicit_bzero */
#endif

#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_SECRET_MAX 65536 /* bytes of a password_command's output kept */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The child: its own process group unless it must stay in the
 * terminal's, stdin and stdout on the pipes (or /dev/null), the signal
 * dispositions and mask a command expects, then exec; on failure errno
 * goes back through ep. */
static void child(char *const argv[], int in, int out, int ep, bool group)
{
	sigset_t none;
	int e;
	if (group)
		setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL); /* ignored ones survive exec */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (out < 0)
		out = open("/dev/null", O_WRONLY);
	if (dup2(in, STDIN_FILENO) >= 0 && out >= 0 &&
	    dup2(out, STDOUT_FILENO) >= 0)
		execv(argv[0], argv);
	e = errno;
	if (write(ep, &e, sizeof e) < 0)
		_exit(127);
	_exit(127);
}

status_t proc_run(const char *name, char *const argv[], const char *input,
		  size_t len, int timeout, size_t max_out, strbuf_t *out,
		  int *wstatus, size_t *taken, err_t *err)
{
	status_t st = ST_TEMPFAIL;
	int in[2] = {-1, -1}, op[2] = {-1, -1}, ep[2] = {-1, -1};
	pid_t pid = -1;
	size_t off = 0;
	int64_t deadline =
		now_ms() + (int64_t)(timeout > 0 ? timeout : 30) * 1000;
	char buf[4096];
	struct sigaction ign = {.sa_handler = SIG_IGN}, saved;
	bool timed_out = false;
	/* A command that may prompt on the terminal (gpg's pinentry, age)
	 * must stay in its foreground process group, or the kernel stops
	 * it: then only the command itself is killed at the deadline.
	 * Under cron there is no terminal and the whole group goes. */
	bool group = !isatty(STDIN_FILENO);
	int e = 0, ws = 0;
	ssize_t r;

	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &saved);
	/* Without out, stdout is /dev/null: a command that leaves a
	 * child holding it open (a sendmail delivering in the background)
	 * is done when it exits. */
	if (pipe2(in, O_CLOEXEC) < 0 || (out && pipe2(op, O_CLOEXEC) < 0) ||
	    pipe2(ep, O_CLOEXEC) < 0) {
		err_set(err, st, "%s: pipe: %s", name, strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		err_set(err, st, "%s: fork: %s", name, strerror(errno));
		goto done;
	}
	if (pid == 0)
		child(argv, in[0], op[1], ep[1], group);
	if (group)
		setpgid(pid, pid); /* also here: no race with the kill */
	close_fd(&in[0]);
	close_fd(&op[1]);
	close_fd(&ep[1]);
	/* EOF on ep means the exec succeeded (close-on-exec). */
	while ((r = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	if (r == (ssize_t)sizeof e) {
		st = err_set(err, ST_CONFIG, "%s: cannot run %s: %s", name,
			     argv[0], strerror(e));
		goto done;
	}
	if (!input || len == 0)
		close_fd(&in[1]);
	else
		fcntl(in[1], F_SETFL, O_NONBLOCK);

	while (in[1] >= 0 || op[0] >= 0) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int64_t left = deadline - now_ms();
		if (util_stop)
			break;
		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (op[0] >= 0)
			pfd[n++] =
				(struct pollfd){.fd = op[0], .events = POLLIN};
		if (in[1] >= 0)
			pfd[n++] =
				(struct pollfd){.fd = in[1], .events = POLLOUT};
		int k = poll(pfd, n, (int)(left > 1000 ? 1000 : left));
		if (k < 0 && errno != EINTR) {
			err_set(err, st, "%s: poll: %s", name, strerror(errno));
			goto done;
		}
		for (nfds_t i = 0; k > 0 && i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == op[0]) {
				r = read(op[0], buf, sizeof buf);
				if (r > 0 && out && out->len < max_out)
					sb_add(out, buf,
					       (size_t)r < max_out - out->len
						       ? (size_t)r
						       : max_out - out->len);
				if (r == 0 || (r < 0 && errno != EINTR &&
					       errno != EAGAIN))
					close_fd(&op[0]);
			} else {
				r = write(in[1], input + off, len - off);
				if (r > 0)
					off += (size_t)r;
				/* EPIPE: the command took what it wanted. */
				if (off == len || (r < 0 && errno != EINTR &&
						   errno != EAGAIN))
					close_fd(&in[1]);
			}
		}
	}
	/* Both pipes closed: wait for the exit, still within the deadline. */
	while (!timed_out && !util_stop) {
		pid_t w = waitpid(pid, &ws, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			err_set(err, st, "%s: waitpid: %s", name,
				strerror(errno));
			goto done;
		}
		if (now_ms() >= deadline)
			timed_out = true;
		else
			poll(NULL, 0, 10);
	}
	if (util_stop) {
		err_set(err, st, "%s: stopped by a signal", name);
		goto done;
	}
	if (timed_out) {
		err_set(err, st, "%s timed out after %ds", name,
			timeout > 0 ? timeout : 30);
		goto done;
	}
	pid = -1;
	*wstatus = ws;
	if (taken)
		*taken = off;
	st = ST_OK;
done:
	if (pid > 0) {
		/* Killed with everything it started; then reaped. */
		if (group)
			kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	explicit_bzero(buf, sizeof buf);
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&op[i]);
		close_fd(&ep[i]);
	}
	sigaction(SIGPIPE, &saved, NULL);
	return st;
}

status_t proc_secret(const char *name, const char *cmd, int timeout,
		     char **secret, err_t *err)
{
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	strbuf_t b = {0};
	int ws = 0;
	status_t st;

	*secret = NULL;
	st = proc_run(name, argv, NULL, 0, timeout, PROC_SECRET_MAX, &b, &ws,
		      NULL, err);
	if (st == ST_CONFIG)
		st = ST_TEMPFAIL; /* /bin/sh itself is missing */
	if (st)
		goto done;
	if (WIFSIGNALED(ws)) {
		st = err_set(err, ST_TEMPFAIL, "%s killed by signal %d", name,
			     WTERMSIG(ws));
		goto done;
	}
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		st = err_set(err, ST_TEMPFAIL, "%s failed (exit %d)", name,
			     WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
		goto done;
	}
	const char *s = b.s ? b.s : "";
	size_t n = strcspn(s, "\n");
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 0) {
		st = err_set(err, ST_TEMPFAIL, "%s printed nothing", name);
		goto done;
	}
	*secret = xstrndup(s, n);
done:
	if (b.s)
		explicit_bzero(b.s, b.cap);
	sb_free(&b);
	return st;
}
