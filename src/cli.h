/* cli: the command-line commands (contract §2). */
#ifndef FLOWCGI_CLI_H
#define FLOWCGI_CLI_H

/* argv[1] is the command; returns the process exit status. */
int cli_run(int argc, char **argv);

#endif
