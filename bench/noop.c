/*
 * noop.fcgi - the FastCGI transport limit for make bench: reads the whole
 * request body, as score.fcgi does, and answers a constant.  Whatever
 * score.fcgi does beyond this costs requests per second.
 */
#include <fcgiapp.h>
#include <stdlib.h>

int main(void)
{
	static char buf[1 << 16];
	static const char reply[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
				    "Content-Length: 2\r\n\r\n[]";
	FCGX_Request req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(buf, sizeof buf, req.in) > 0)
			;
		FCGX_PutStr(reply, (int)sizeof reply - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
