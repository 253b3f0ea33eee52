/*
 * proc — running the user's commands (password_command, a sendmail
 * binary) with a deadline.  A command runs in a process group of its own;
 * when it outlives the deadline the whole group is killed, so a password
 * manager waiting for a pinentry that cron will never answer, or an MTA
 * stuck on a dead relay, cannot hang digest.  Nothing is printed; the
 * command's stderr is inherited.
 */
#ifndef DIGEST_PROC_H
#define DIGEST_PROC_H

#include <stddef.h>

#include "util.h"

/*
 * Run argv (argv[0] a path, no shell) with input on its stdin (NULL: an
 * empty stdin) and at most max_out bytes of its stdout kept in *out (the
 * rest is read and dropped; with out NULL its stdout is /dev/null).  Waits at
 * most timeout seconds in all.  Returns ST_OK when the command ran to its end,
 * with its raw wait status in *wstatus and how many bytes of input it read in
 * *taken (may be NULL; less than len when it closed its stdin early);
 * ST_TEMPFAIL when it was killed at the deadline ("NAME timed out after Ns"),
 * was killed because util_stop was set (a stop signal arrived), or a pipe or
 * fork failed; ST_CONFIG when argv[0] cannot be executed ("cannot run PATH:
 * why"). name is how messages call the command (e.g. "sendmail").
 */
status_t proc_run(const char *name, char *const argv[], const char *input,
		  size_t len, int timeout, size_t max_out, strbuf_t *out,
		  int *wstatus, size_t *taken, err_t *err);

/*
 * The secret a password_command prints: cmd run by /bin/sh -c, bounded by
 * timeout seconds, its first line of stdout (CR LF or LF stripped).  A
 * non-zero exit, a signal, a timeout or an empty first line is
 * ST_TEMPFAIL, "NAME failed (exit 1)" and the like; the secret is never
 * in a message.  *secret is the caller's: wipe it (explicit_bzero), then
 * free it.
 */
status_t proc_secret(const char *name, const char *cmd, int timeout,
		     char **secret, err_t *err);

#endif
