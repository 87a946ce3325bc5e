/* SPDX-License-Identifier: MIT */
#include "wholefile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint32_t wholefile_crc32(const char *text, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= (unsigned char)text[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* --- reading --- */

/* O_NONBLOCK: a FIFO put in the file's place must not hang us. */
int wholefile_read(const char *path, size_t max, char **text, size_t *len, char *why,
		   size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	ssize_t n = 0;

	*text = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, size, "cannot read it: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		if (S_ISREG(st.st_mode))
			snprintf(why, size, "larger than %zu bytes", max);
		else
			snprintf(why, size, "not a regular file");
		goto fail;
	}
	*text = malloc((size_t)st.st_size + 1);
	while (*text && *len < (size_t)st.st_size &&
	       (n = read(fd, *text + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)n;
	if (!*text || n < 0) {
		snprintf(why, size, "cannot read it: %s", strerror(errno));
		goto fail;
	}
	(*text)[*len] = '\0';
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(*text);
	*text = NULL;
	return -1;
}

/* The "crc32 XXXXXXXX" line: whether line is one, with its value. */
static bool parse_crc(const char *line, uint32_t *crc)
{
	if (strncmp(line, "crc32 ", 6) != 0 || strlen(line) != 14 ||
	    strspn(line + 6, "0123456789abcdef") != 8)
		return false;
	*crc = (uint32_t)strtoul(line + 6, NULL, 16);
	return true;
}

int wholefile_verify(char *text, size_t len, size_t *body_len, char *why, size_t size)
{
	const char *wrong = NULL;
	uint32_t stored = 0;
	char *last;

	if (memchr(text, '\0', len))
		wrong = "a NUL byte";
	else if (len == 0 || text[len - 1] != '\n')
		wrong = "it ends in the middle of a line (torn or truncated)";
	if (wrong) {
		snprintf(why, size, "%s", wrong);
		return -1;
	}
	text[len - 1] = '\0';
	last = strrchr(text, '\n');
	last = last ? last + 1 : text;
	if (last == text || !parse_crc(last, &stored))
		wrong = "no checksum after the version line (torn or truncated)";
	else if (wholefile_crc32(text, (size_t)(last - text)) != stored)
		wrong = "its checksum does not match (torn or edited)";
	text[len - 1] = '\n';
	if (wrong) {
		snprintf(why, size, "%s", wrong);
		return -1;
	}
	*body_len = (size_t)(last - text);
	return 0;
}

/* --- writing --- */

int wholefile_seal(char **text, size_t *len)
{
	char line[sizeof("crc32 XXXXXXXX\n")];
	size_t n = (size_t)snprintf(line, sizeof(line), "crc32 %08" PRIx32 "\n",
				    wholefile_crc32(*text, *len));
	char *more = realloc(*text, *len + n + 1);

	if (!more) {
		free(*text);
		*text = NULL;
		return -1;
	}
	memcpy(more + *len, line, n + 1);
	*text = more;
	*len += n;
	return 0;
}

static int write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : fsync(fd);
	int error = errno;

	if (fd >= 0)
		close(fd);
	errno = error;
	return rc;
}

int wholefile_replace(const char *path, const char *tmp_path, const char *dir, const char *text,
		      size_t len, const char **step)
{
	int fd, error;

	*step = "create the temporary file";
	/* O_EXCL after the unlink: a leftover of a crash goes, and a link
	 * planted in its place is not followed. */
	if (unlink(tmp_path) < 0 && errno != ENOENT)
		return -1;
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	*step = "write the temporary file";
	if (write_all(fd, text, len) < 0)
		goto fail;
	*step = "sync the temporary file";
	if (fsync(fd) < 0)
		goto fail;
	*step = "close the temporary file";
	error = close(fd);
	fd = -1;
	if (error < 0)
		goto fail;
	*step = "rename the temporary file";
	if (rename(tmp_path, path) < 0)
		goto fail;
	*step = WHOLEFILE_STEP_SYNC_DIR;
	return sync_dir(dir);
fail:
	error = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp_path);
	errno = error;
	return -1;
}

int wholefile_remove(const char *path, const char *dir)
{
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -1;
	return sync_dir(dir);
}

char *wholefile_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}
