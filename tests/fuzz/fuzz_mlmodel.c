/*
 * fuzz_mlmodel.c - the MLmodel reader (tools/mlmodel.h): libyaml, the
 * flavors, and the JSON signature inside YAML strings.
 *
 * The input is the MLmodel text, read by mlmodel_load_mem as if it were
 * fixtures/model/MLmodel, so that model_data and artifacts paths resolve
 * against a real model directory (read only; nothing is written).
 * Properties: a success names a model path inside fixtures/model and has
 * as many terminated column names as it counts; a failure has a message.
 */
#include "tools/mlmodel.h"
#include "tests/fuzz/fuzz.h"

#define DIR "fixtures/model"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlmodel m;
	char err[1024];
	char *text = fuzz_copy(data, size);

	if (mlmodel_load_mem(DIR, text, size, &m, err, sizeof err) == 0) {
		FUZZ_CHECK(strncmp(m.model_path, DIR "/", sizeof DIR) == 0 && !strstr(m.model_path, ".."),
			   "model path \"%s\"", m.model_path);
		FUZZ_CHECK((m.ncolumns == 0) == (m.columns == NULL), "%u columns", m.ncolumns);
		for (uint32_t i = 0; i < m.ncolumns; i++)
			FUZZ_CHECK(m.columns[i] && m.columns[i][0], "column %u", i);
		mlmodel_free(&m);
	} else {
		FUZZ_CHECK(err[0] && memchr(err, '\0', sizeof err), "refused without a message");
	}
	free(text);
	return 0;
}
