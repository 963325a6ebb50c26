/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the RCM blob parser (host-loader/boot/rcm_blob.c): any bytes either fail
 * with a message or parse; a parsed blob with a kernel entry gets a small boot image swapped
 * in, and the result must parse again with its digest holding and its size as promised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rcm_blob.h"
#include "bootimg.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcm_blob b;
	if (rcm_blob_parse(&b, data, size) != 0) {
		if (!err_msg()[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	(void)rcm_blob_check_kernel(&b);
	static const uint8_t kernel[64] = { 1, 2, 3 };
	static uint8_t image[3 * 2048];
	uint64_t image_len = 0, new_len = 0, out_len = 0;
	if (bootimg_size(sizeof(kernel), 10, 2048, &image_len) != 0 ||
	    bootimg_build(image, sizeof(image), kernel, sizeof(kernel), kernel, 10, "x", 2048) != 0)
		abort();
	if (rcm_blob_swapped_size(&b, RCM_BLOB_TYPE_KERNEL, image_len, &new_len) != 0)
		return 0;
	uint8_t *out = malloc((size_t)new_len);
	if (!out)
		return 0;
	if (rcm_blob_replace(&b, RCM_BLOB_TYPE_KERNEL, image, image_len, out, new_len,
			     &out_len) != 0 ||
	    out_len != new_len)
		abort();
	struct rcm_blob again;
	if (rcm_blob_parse(&again, out, out_len) != 0 || !again.digest_ok ||
	    rcm_blob_check_kernel(&again) != 0)
		abort();
	free(out);
	return 0;
}
