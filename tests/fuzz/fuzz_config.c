/*
 * fuzz_config.c - libFuzzer harness for the YAML config loader.
 *
 * Input: the whole config file. config_load() takes a path, so each input is
 * written to advocacyd.yaml in a private temporary directory that also
 * contains hmac.key, a link to the test fixture key, so that a config naming
 * "key_file: hmac.key" can load, and kpis.yaml, a link to the shipped KPI
 * catalog, so that seeds naming "kpi_catalog: kpis.yaml" reach the KPIs.
 * Checks: config_load() returns 0 with a config or -1 with none and an error
 * that starts with the file name. For an input that names kpi_catalog, the
 * error may start with the catalog's path instead. Loading the same file
 * again must give the same outcome. The loader opens the files a
 * config names (key file, time zones), so a fuzzed config may point it at any
 * path. It only opens and checks such files and never writes them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_decoder.h"

static char fuzz_dir[256];
static char fuzz_path[300];
static char fuzz_key[300];
static char fuzz_catalog[300];

static void fuzz_config_fini(void)
{
	unlink(fuzz_path);
	unlink(fuzz_key);
	unlink(fuzz_catalog);
	rmdir(fuzz_dir);
}

static void fuzz_config_init(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_dir[0] != '\0')
		return;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/fuzz_config.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir) == NULL)
		fuzz_fail("config", "cannot create a directory under %s; set TMPDIR",
			  tmp ? tmp : "/tmp");
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/advocacyd.yaml", fuzz_dir);
	snprintf(fuzz_key, sizeof(fuzz_key), "%s/hmac.key", fuzz_dir);
	if (symlink(FUZZ_KEY_FILE, fuzz_key) < 0)
		fuzz_fail("config", "cannot link %s to %s", fuzz_key, FUZZ_KEY_FILE);
	snprintf(fuzz_catalog, sizeof(fuzz_catalog), "%s/kpis.yaml", fuzz_dir);
	if (symlink(FUZZ_CATALOG_FILE, fuzz_catalog) < 0)
		fuzz_fail("config", "cannot link %s to %s", fuzz_catalog, FUZZ_CATALOG_FILE);
	atexit(fuzz_config_fini);
}

static void fuzz_config_write(const uint8_t *data, size_t size)
{
	FILE *f = fopen(fuzz_path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		fuzz_fail("config", "cannot write %s", fuzz_path);
}

/* Loads the file and checks the outcome; returns the status. names_catalog: the input
 * contains "kpi_catalog", so an error may start with the catalog's path instead. */
static int fuzz_config_load(bool names_catalog)
{
	config *cfg = (config *)&cfg; /* must be reset by config_load */
	char errstr[512] = "";
	int rc = config_load(fuzz_path, &cfg, errstr, sizeof(errstr));

	if (rc == 0 && cfg == NULL)
		fuzz_fail("config", "config_load returned 0 without a config");
	if (rc == -1 && cfg != NULL)
		fuzz_fail("config", "config_load returned -1 but set a config");
	if (rc != 0 && rc != -1)
		fuzz_fail("config", "config_load returned %d, expected 0 or -1", rc);
	if (rc == -1 && strncmp(errstr, fuzz_path, strlen(fuzz_path)) != 0 &&
	    !(names_catalog && strstr(errstr, ": ")))
		fuzz_fail("config", "the error does not start with the file name");
	config_free(rc == 0 ? cfg : NULL);
	return rc;
}

/* True when text occurs in the size bytes at data. */
static bool fuzz_config_contains(const uint8_t *data, size_t size, const char *text)
{
	size_t len = strlen(text);

	for (size_t i = 0; i + len <= size; i++)
		if (memcmp(data + i, text, len) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_config_init();
	fuzz_config_write(data, size);

	bool names_catalog = fuzz_config_contains(data, size, "kpi_catalog");
	int first = fuzz_config_load(names_catalog);
	if (fuzz_config_load(names_catalog) != first)
		fuzz_fail("config", "loading the same file twice gave different results");
	return 0;
}
