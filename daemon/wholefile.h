/* SPDX-License-Identifier: MIT */
/* wholefile: a small text file that is read and replaced whole, for what
 * must survive a restart or a power cut (statefile.h, ha_memory.h).
 *
 * Replacing it is atomic: the text goes to a temporary file beside it,
 * which is synced, renamed over the file, and the directory synced, so the
 * file on disk is always one that was written whole. Its last line is
 * "crc32 XXXXXXXX", the CRC-32 (zlib's) of every byte before it in
 * lower-case hex: a torn, truncated or edited file is found out.
 *
 * Ownership: nothing is kept; text returned by wholefile_read() is the
 * caller's (free()). */
#ifndef GPIO2MQTT_WHOLEFILE_H
#define GPIO2MQTT_WHOLEFILE_H

#include <stddef.h>
#include <stdint.h>

/* The one step of wholefile_replace() whose failure leaves the new file in
 * place. */
#define WHOLEFILE_STEP_SYNC_DIR "sync the directory"

uint32_t wholefile_crc32(const char *text, size_t len);

/* The file's bytes into *text (NUL-terminated, *len of them, malloc'd);
 * 1 when there is no file, 0, or -1 with why. A file that is not regular
 * or is larger than max bytes is refused. */
int wholefile_read(const char *path, size_t max, char **text, size_t *len, char *why,
		   size_t size);

/* Whether text (len bytes, as read) ends in the checksum line of the bytes
 * before it: 0 with *body_len, the bytes before that line (each line of it
 * ending in a newline), or -1 with why. */
int wholefile_verify(char *text, size_t len, size_t *body_len, char *why, size_t size);

/* The checksum line of body, appended to the NUL-terminated *text of *len
 * bytes (realloc'd); -1 when out of memory (*text is then freed). */
int wholefile_seal(char **text, size_t *len);

/* text in place of path: written whole to tmp_path and synced, renamed over
 * path, dir synced so that the rename survives a power cut. 0, or -1 with
 * errno and *step saying what failed; the file is then the one before (a
 * failed directory sync leaves the new one). */
int wholefile_replace(const char *path, const char *tmp_path, const char *dir, const char *text,
		      size_t len, const char **step);

/* path removed (none is fine), and dir synced; 0, or -1 with errno. */
int wholefile_remove(const char *path, const char *dir);

/* The directory of path (malloc'd), "." for a bare name; NULL when out of
 * memory. */
char *wholefile_dir_of(const char *path);

#endif
