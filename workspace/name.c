/*
 * name.c - Azure ML's naming rule (docs:how-to-manage-quotas.md): endpoint
 * and deployment names begin with a letter, have 3 to 32 characters and
 * use letters, digits and single dashes.
 */
#include "workspace/name.h"

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int name_valid(const char *s, size_t len)
{
	if (!s || len < NAME_MIN_LEN || len > NAME_MAX_LEN || !is_alpha(s[0]) || s[len - 1] == '-')
		return 0;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (c == '-' ? s[i - 1] == '-' : !(is_alpha(c) || is_digit(c)))
			return 0;
	}
	return 1;
}

const char *name_rule(void)
{
	return "a name begins with a letter and has 3 to 32 characters: "
	       "letters, digits and single dashes, not ending with a dash";
}
