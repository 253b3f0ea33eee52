/*
 * cli — the command line: global options, the command table, and the
 * mapping of status codes to sysexits.  The only place that prints
 * errors and exits.
 */
#ifndef DIGEST_CLI_H
#define DIGEST_CLI_H

/* Run digest with these arguments; returns the process exit code. */
int cli_main(int argc, char **argv);

#endif
