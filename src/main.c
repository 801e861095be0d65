/*
 * flowcgi: a NocoBase-compatible workflow trigger server as one FastCGI
 * (or CGI) program.  With arguments it is the command-line tool; started
 * by a web server it serves.  A web server may pass a query string as
 * argv, so whenever the CGI variables are present it serves and never
 * runs a command.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "cli.h"
#include "jsonx.h"
#include "metrics.h"
#include "serve.h"
#include "wf_http.h"

#ifdef FLOWCGI_COVERAGE
/* make coverage only: a process stopped by its server writes its gcov
 * counts, then dies of the signal as it would have (the default action
 * alone would lose the counts). */
void __gcov_dump(void);

static void stop_coverage(int sig)
{
	__gcov_dump();
	signal(sig, SIG_DFL);
	raise(sig);
}
#define STOP_ACTION stop_coverage
#else
#define STOP_ACTION SIG_DFL
#endif

/* A server stops its FastCGI processes with SIGTERM (lighttpd, mod_fcgid,
 * spawn-fcgi users) or SIGINT: whatever mask or disposition the spawning
 * process handed down, the default action, an immediate exit, must hold
 * (the WAL keeps the database whole at any instant). */
static void stop_signals_default(void)
{
	static const int sigs[] = {SIGTERM, SIGINT};
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&set, sigs[i]);
		signal(sigs[i], STOP_ACTION);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	bool cgi_env = getenv("GATEWAY_INTERFACE") || getenv("REQUEST_METHOD");
	struct app_config cfg;
	struct app a;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !cgi_env)
		return cli_run(argc, argv);
	if (FCGX_IsCGI() && !cgi_env) {
		fputs("flowcgi: not started by a web server; try "
		      "'flowcgi.fcgi help'\n",
		      stderr);
		return 2;
	}
	stop_signals_default();
	wf_http_global_init();
	app_config_load(&cfg, NULL);
	app_open(&a, &cfg);
	metrics_open(a.cfg.db_path);
	rc = FCGX_IsCGI() ? serve_cgi(&a) : serve_fcgi(&a);
	metrics_close();
	app_close(&a);
	wf_http_global_cleanup();
	jsonx_cleanup();
	return rc;
}
