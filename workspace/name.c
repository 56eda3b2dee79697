/*
 * name.c - Azure ML's naming rules.  Endpoint and deployment names
 * (docs:how-to-manage-quotas.md) begin with a letter, have 3 to 32
 * characters and use letters, digits and single dashes.  Model names are
 * asset names: the ML REST API's pattern for a model container is
 * ^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$, which the service's refusal words as
 * "alphanumeric characters, dashes, and underscores, with a limit of 255
 * characters".  No dot: only the retired v1 SDK allowed one.
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

int model_name_valid(const char *s, size_t len)
{
	if (!s || len < 1 || len > MODEL_NAME_MAX_LEN || !(is_alpha(s[0]) || is_digit(s[0])))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

const char *model_name_rule(void)
{
	return "a model name has 1 to 255 characters: letters, digits, '-' and '_', "
	       "beginning with a letter or a digit";
}
