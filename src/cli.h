/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_CLI_H
#define MAKINI_CLI_H

/*
 * The verbs run from a shell (never under CGI or FastCGI): --help,
 * --version, sign, check, drain, status, retry and replay. Returns the
 * process exit status.
 */
int cli_main(int argc, char **argv, char *const *env);

#endif
