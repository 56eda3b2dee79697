/*
 * test_serve_loopback.c - cli/cli_serve.c's serve_addr_loopback(): which
 * --host makes `scorepoint serve` let the Studio list the endpoints' names
 * by default (docs/studio.md).  tests/e2e/ui_api.sh runs serve on
 * 127.0.0.1; the other addresses cannot be bound by a test.
 */
#include "tests/unit/unit.h"
#include "cli/cli_serve.h"

static int loopback(const char *host)
{
	struct serve_addr a;

	if (serve_addr_parse(host, 8080, &a) < 0)
		return -1;
	return serve_addr_loopback(&a);
}

static void test_loopback(void)
{
	static const char *const yes[] = { "127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "[::1]",
					   "::ffff:127.0.0.1" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		CHECKF(loopback(yes[i]) == 1, "%s", yes[i]);
}

static void test_not_loopback(void)
{
	static const char *const no[] = { "0.0.0.0", "::", "10.0.0.1", "192.168.1.10", "128.0.0.1", "126.255.255.255",
					  "::2", "fe80::1", "::ffff:10.0.0.1", "::127.0.0.1" };
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		CHECKF(loopback(no[i]) == 0, "%s", no[i]);
}

int main(void)
{
	RUN(test_loopback);
	RUN(test_not_loopback);
	return unit_done();
}
