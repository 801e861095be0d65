/* hello.fcgi: the benchmark baseline. The smallest FastCGI responder in the
 * same shape as flowcgi's loop (FCGX_Init, FCGX_InitRequest, FCGX_Accept_r),
 * answering every request with the same ~100-byte JSON document. It measures
 * what the web server, libfcgi and the socket cost, so bench.sh can show how
 * much of a flowcgi request is flowcgi.  As shipped it ends each request
 * with FCGX_Finish_r as libfcgi does it (shutdown, then wait for the server
 * to close).  With HELLO_PLAIN_CLOSE set it ends a connection the way
 * flowcgi does (input read to its end, then a plain close): the stricter
 * baseline, which the server's event loop never makes wait. */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] =
    "{\"data\":{\"id\":1,\"title\":\"hello\",\"indicator\":42,"
    "\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"updatedAt\":null}}";

int main(void)
{
    FCGX_Request req;
    int plain_close = getenv("HELLO_PLAIN_CLOSE") != NULL;

    if (FCGX_IsCGI()) {
        fputs("hello.fcgi: start me from a FastCGI server\n", stderr);
        return 1;
    }
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
        fputs("hello.fcgi: FCGX_Init failed\n", stderr);
        return 1;
    }
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_FPrintF(req.out,
                     "Status: 200 OK\r\n"
                     "Content-Type: application/json; charset=utf-8\r\n"
                     "Content-Length: %u\r\n\r\n",
                     (unsigned)(sizeof body - 1));
        FCGX_PutStr(body, (int)(sizeof body - 1), req.out);
        if (plain_close) {
            while (FCGX_GetChar(req.in) != EOF)
                ;
            FCGX_Detach(&req);
        }
        FCGX_Finish_r(&req);
    }
    return 0;
}
