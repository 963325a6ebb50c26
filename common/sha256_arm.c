/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 blocks with the ARMv8 Cryptography Extension SHA2 instructions (every Jetson Orin
 * core has them). Only this function is compiled for them (target attribute), and sha256.c
 * calls it only after sha256_arm_detect() said yes. Empty on other architectures.
 */
#include "sha256_impl.h"

#ifdef SHA256_HAVE_ARM

#include <arm_neon.h>
#include <sys/auxv.h>

#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1 << 6) /* arch/arm64/include/uapi/asm/hwcap.h */
#endif

int sha256_arm_detect(void)
{
	return (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0;
}

/*
 * sha256h/sha256h2 do four rounds on ABCD and EFGH given W[t..t+3] + K[t..t+3];
 * sha256su0/sha256su1 compute the next four message-schedule words (FIPS 180-4 §6.2.2)
 * from the previous sixteen. gcc 12 knows the instructions as "+crypto" ("+sha2" is newer).
 */
#define SHA256_ARM_ROUNDS(g, w)                                                                \
	do {                                                                                   \
		uint32x4_t wk_ = vaddq_u32((w), vld1q_u32(&sha256_round_constants[4 * (g)]));   \
		uint32x4_t abcd_ = abcd;                                                       \
		abcd = vsha256hq_u32(abcd, efgh, wk_);                                         \
		efgh = vsha256h2q_u32(efgh, abcd_, wk_);                                       \
	} while (0)

/* w0 = W[t-16..t-13] becomes W[t..t+3]; w1, w2, w3 are the next older groups. */
#define SHA256_ARM_SCHEDULE(w0, w1, w2, w3)                                                    \
	((w0) = vsha256su1q_u32(vsha256su0q_u32((w0), (w1)), (w2), (w3)))

__attribute__((target("+crypto")))
void sha256_arm_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks)
{
	uint32x4_t abcd = vld1q_u32(&state[0]);
	uint32x4_t efgh = vld1q_u32(&state[4]);

	for (; nblocks > 0; nblocks--, data += 64) {
		uint32x4_t abcd_in = abcd, efgh_in = efgh;
		/* Big-endian message words into lanes. */
		uint32x4_t w0 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(data + 0)));
		uint32x4_t w1 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(data + 16)));
		uint32x4_t w2 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(data + 32)));
		uint32x4_t w3 = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(data + 48)));

		SHA256_ARM_ROUNDS(0, w0);
		SHA256_ARM_ROUNDS(1, w1);
		SHA256_ARM_ROUNDS(2, w2);
		SHA256_ARM_ROUNDS(3, w3);
		for (int g = 4; g < 16; g += 4) {
			SHA256_ARM_SCHEDULE(w0, w1, w2, w3);
			SHA256_ARM_ROUNDS(g, w0);
			SHA256_ARM_SCHEDULE(w1, w2, w3, w0);
			SHA256_ARM_ROUNDS(g + 1, w1);
			SHA256_ARM_SCHEDULE(w2, w3, w0, w1);
			SHA256_ARM_ROUNDS(g + 2, w2);
			SHA256_ARM_SCHEDULE(w3, w0, w1, w2);
			SHA256_ARM_ROUNDS(g + 3, w3);
		}
		abcd = vaddq_u32(abcd, abcd_in);
		efgh = vaddq_u32(efgh, efgh_in);
	}
	vst1q_u32(&state[0], abcd);
	vst1q_u32(&state[4], efgh);
}

#endif
