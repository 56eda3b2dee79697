/*
 * noop_cgi.c - the exec floor of a CGI request for make bench: a program
 * linked statically, with no library to load, that reads the whole body
 * from stdin as score.fcgi does and prints a constant answer.  Whatever
 * score.fcgi --cgi costs beyond this is its own start-up and work.
 */
#include <unistd.h>

int main(void)
{
	static char buf[1 << 16];
	static const char reply[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
				    "Content-Length: 2\r\n\r\n[]";

	while (read(0, buf, sizeof buf) > 0)
		;
	return write(1, reply, sizeof reply - 1) == (ssize_t)(sizeof reply - 1) ? 0 : 1;
}
