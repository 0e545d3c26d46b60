/* See LICENSE file for copyright and license details. */
/*
 * makini-webhook: the request loop. It captures the configuration, accepts
 * requests through libfcgi (one under CGI, a loop under FastCGI), hands
 * each to handle_request(), and turns the outcome into the reply and one
 * log line. Run from a shell, it serves the verbs instead.
 */
#include <fcgi_stdio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "env.h"
#include "handle.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "request.h"
#include "sig.h"
#include "spool_cache.h"
#include "text.h"

#define DISCARD_SECONDS 1

extern char **environ;

/*
 * Under CGI the server sets GATEWAY_INTERFACE; under FastCGI standard input
 * is a listening socket. Only outside both do the arguments name a verb:
 * Apache passes a query string without "=" as argv.
 */
static int
under_gateway(void)
{
	return getenv("GATEWAY_INTERFACE") || getenv("REQUEST_METHOD") ||
	       !FCGX_IsCGI();
}

static size_t
read_fcgi_body(void *buf, size_t n, void *ctx)
{
	(void)ctx;
	return FCGI_fread(buf, 1, n, FCGI_stdin);
}

/*
 * Log lines go to the request's error stream, into the server's error log,
 * each sent at once, so that a hook's lines show while it runs. The
 * request's own closing line is not: the end of the request, which comes
 * right after it, sends it with the error stream's end record in one
 * write. The answer takes a write of its own: libfcgi flushes each stream
 * separately.
 */
static int log_unflushed;

static void
fcgi_log_sink(const char *line, size_t len)
{
	FCGI_fwrite((void *)line, 1, len, FCGI_stderr);
	if (!log_unflushed)
		FCGI_fflush(FCGI_stderr);
}

/*
 * Where a request's lines go when MAKINI_WEBHOOK_LOG does not say, as
 * earlier versions decided it from the server. Under Apache they go to
 * the process's own standard error, unless that is /dev/null. In the
 * FastCGI stream every one of them, a 200 as much as a failure, would be
 * tagged a warning by mod_fcgid ("[fcgid:warn] ... mod_fcgid: stderr: ")
 * or an error by mod_proxy_fcgi ("[proxy_fcgi:error] ... AH01071: Got
 * error '...\n'"): twice the bytes, and Apache's real errors buried among
 * them. mod_fcgid makes standard error the main server's error log, where
 * a line then stands as under mod_cgid; the shipped spawn-fcgi script
 * makes it the receiver's own log; systemd, the journal. spawn-fcgi run
 * by hand gives /dev/null, which would lose them, so they stay in the
 * stream there. lighttpd keeps the stream: it writes it to its error log,
 * time-stamped, while the standard error its FastCGI processes inherit is
 * its own, /dev/null under the init script. Other servers get the stream
 * too, though nginx logs it at [error] and Caddy 2.6 drops it: their
 * shipped configurations set MAKINI_WEBHOOK_LOG.
 */
static int stderr_is_null;

static int
is_dev_null(int fd)
{
	struct stat st, null;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       stat("/dev/null", &null) == 0 && st.st_rdev == null.st_rdev;
}

static log_sink_fn *
default_sink(const struct request *req, int fastcgi)
{
	if (fastcgi && !stderr_is_null && req->server_software &&
	    strncmp(req->server_software, "Apache", 6) == 0)
		return NULL; /* log.c's own: standard error, a write a line */
	return fcgi_log_sink;
}

/* Where lines go once the request is finished: never its closed stream. */
static log_sink_fn *after_sink;

/*
 * Points the log at the sink MAKINI_WEBHOOK_LOG names. A file that cannot
 * be opened leaves the lines where they would go without the setting,
 * with one more saying why.
 */
static void
choose_sink(const struct request *req, const struct config *cfg,
	    int fastcgi)
{
	int err;

	after_sink = NULL;
	switch (cfg->log_to) {
	case LOG_STDERR:
		log_set_sink(NULL);
		return;
	case LOG_FASTCGI:
		log_set_sink(fcgi_log_sink);
		return;
	case LOG_FILE:
		if (log_open_request_file(cfg->log_file) == 0) {
			log_set_sink(log_request_file_sink);
			after_sink = log_request_file_sink;
			return;
		}
		err = errno;
		log_set_sink(default_sink(req, fastcgi));
		log_line("cannot open the file named by " CONFIG_PREFIX
			 "LOG: %s", strerror(err));
		return;
	case LOG_AUTO:
		break;
	}
	log_set_sink(default_sink(req, fastcgi));
}

/* Microseconds since start: formatted as integers, cheaper than "%f". */
static long long
elapsed_us(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - start->tv_sec) * 1000000 +
	       (now.tv_nsec - start->tv_nsec) / 1000;
}

/*
 * "ADDRESS METHOD EVENT STATUS ID-OR-REASON[ (DETAIL)] MS.USms", put
 * together by hand: it is written for every request.
 */
static void
log_request(const struct request *req, const struct reply *rep,
	    const struct timespec *start)
{
	const char *outcome = rep->status == STATUS_OK && rep->id[0]
				      ? rep->id : rep->reason;
	const char *method = req->method ? req->method : "-";
	long long us = elapsed_us(start);
	char line[1024];
	struct text t;

	if (us < 0)
		us = 0;
	text_init(&t, line, sizeof(line));
	/* Empty when Caddy takes it from a header the request lacks. */
	text_add(&t, req->remote_addr && *req->remote_addr ? req->remote_addr
							     : "-");
	text_add(&t, " ");
	text_add_mem(&t, method, strnlen(method, 16));
	text_add(&t, " ");
	text_add(&t, rep->event[0] ? rep->event : "-");
	text_add(&t, " ");
	text_add_uint(&t, (unsigned)rep->status, 0);
	text_add(&t, " ");
	text_add(&t, outcome);
	if (rep->detail) {
		text_add(&t, " (");
		text_add(&t, rep->detail);
		text_add(&t, ")");
	}
	text_add(&t, " ");
	text_add_uint(&t, (unsigned long long)us / 1000, 0);
	text_add(&t, ".");
	text_add_uint(&t, (unsigned long long)us % 1000, 3);
	text_add(&t, "ms");
	log_text(line, text_done_cut(&t));
}

static volatile sig_atomic_t discard_expired;

static void
on_alarm(int sig)
{
	(void)sig;
	discard_expired = 1;
}

static size_t
read_until_expired(void *buf, size_t n, void *ctx)
{
	return discard_expired ? 0 : read_fcgi_body(buf, n, ctx);
}

/*
 * Under CGI, what is left of a body after an early answer (403, 405, 413,
 * 500...) is read and dropped: Apache fails to write a body its program
 * did not take, and then breaks the answer. The answer is out first, and
 * a body that does not come within DISCARD_SECONDS is not waited for.
 */
static void
discard_unread_body(struct request *req, size_t max)
{
	/* It repeats, so that a read begun just after it rang is cut too. */
	struct itimerval timer = { { 0, 100000 }, { DISCARD_SECONDS, 0 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	struct sigaction wake, old;

	/* A body read whole, as every stored event's is, needs no timer. */
	if (!request_body_unread(req))
		return;
	FCGI_fflush(FCGI_stdout);
	memset(&wake, 0, sizeof(wake));
	wake.sa_handler = on_alarm; /* no SA_RESTART: the read is cut short */
	sigemptyset(&wake.sa_mask);
	sigaction(SIGALRM, &wake, &old);
	discard_expired = 0;
	req->read_body = read_until_expired;
	setitimer(ITIMER_REAL, &timer, NULL);
	request_discard_body(req, max);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
}

/*
 * Under CGI the standard streams are stdio's. With their buffering set
 * before first use, stdio does not ask the system about them (an fstat,
 * an ioctl): the body is read straight into the request's buffer, and the
 * answer leaves from a buffer of ours in one write.
 */
static void
set_cgi_buffers(void)
{
	static char out[4096];

	FCGI_setvbuf(FCGI_stdin, NULL, _IONBF, 0);
	FCGI_setvbuf(FCGI_stdout, out, _IOFBF, sizeof(out));
}

/* Ends the answer; the request's error stream goes with it. */
static void
finish_fastcgi(void)
{
	FCGI_Finish();
	log_set_sink(after_sink);
}

static void
finish_cgi(void)
{
	FCGI_fflush(FCGI_stdout);
	log_set_sink(after_sink);
}

/*
 * Serves one request. What follows the answer (queue mode's runner) comes
 * after it is finished, so the client's latency never includes a hook and
 * the next accept never waits for one.
 */
static void
serve(int fastcgi)
{
	struct timespec start;
	struct request req;
	const struct config *cfg;
	struct event ev;
	struct reply rep;
	char out[1024];
	size_t len;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (!fastcgi)
		set_cgi_buffers();
	request_from_env(&req, environ);
	req.read_body = read_fcgi_body;
	/* FastCGI ends the body with an empty stdin record. */
	req.end_marked = fastcgi;
	cfg = config_for_request(environ);
	choose_sink(&req, cfg, fastcgi);
	handle_request(&req, cfg, &ev, &rep);
	len = reply_render(&rep, out, sizeof(out));
	if (len == 0) {
		/* Never an empty answer: one not rendered is a 500. */
		int head_only = rep.head_only;

		memset(&rep, 0, sizeof(rep));
		rep.head_only = head_only;
		reply_set(&rep, STATUS_INTERNAL_ERROR, "internal error");
		rep.detail = "the answer did not fit its buffer";
		len = reply_render(&rep, out, sizeof(out));
	}
	FCGI_fwrite(out, 1, len, FCGI_stdout);
	log_unflushed = 1;
	log_request(&req, &rep, &start);
	log_unflushed = 0;
	/*
	 * Mapped once per process: an add in memory, no system call. Health
	 * checks are not deliveries: a balancer's probes of an almost full
	 * spool (503) must not read as refused deliveries.
	 */
	if (!req.method || (strcmp(req.method, "GET") != 0 &&
			    strcmp(req.method, "HEAD") != 0))
		metrics_count_request(cfg, rep.status);
	if (!fastcgi)
		discard_unread_body(&req, cfg->max_body);

	handle_after_answer(cfg, &ev, environ,
			    fastcgi ? finish_fastcgi : finish_cgi);
	log_set_sink(fcgi_log_sink);
}

/*
 * Descriptors 0 to 2 closed at start would be lent to the first files
 * opened (an event, a hook's pipe), which a hook's standard streams or
 * our own output would then reach. They get /dev/null instead.
 */
static void
open_standard_fds(void)
{
	int fd;

	/* The usual case, all three open, is told without a path lookup. */
	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 &&
	    fcntl(2, F_GETFD) >= 0)
		return;
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd < 3)
		;
	if (fd > 2)
		close(fd);
}

int
main(int argc, char **argv)
{
	int fastcgi;

	open_standard_fds();

	/* Hooks are waited for: an inherited "ignore" would reap them. */
	signal(SIGCHLD, SIG_DFL);

	if (!under_gateway())
		return cli_main(argc, argv, environ);
	if (sig_init() < 0) {
		fputs("makini-webhook: libgcrypt version mismatch\n", stderr);
		return 1;
	}
	fastcgi = !FCGX_IsCGI();
	if (fastcgi)
		spool_keep_dirs();
	/* FCGI_Accept() replaces environ with each request's parameters. */
	env_capture(environ);
	/* Only FastCGI under Apache asks (default_sink). */
	stderr_is_null = fastcgi && is_dev_null(STDERR_FILENO);
	log_set_sink(fcgi_log_sink);
	while (FCGI_Accept() >= 0)
		serve(fastcgi);
	return 0;
}
