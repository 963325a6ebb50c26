/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 blocks with the x86-64 SHA extensions (SHA-NI). Only this function is compiled for
 * those instructions (target attribute), so the rest of the program runs on any x86-64 and
 * sha256.c calls it only after sha256_x86_detect() said yes. Empty on other architectures.
 */
#include "sha256_impl.h"

#ifdef SHA256_HAVE_X86

#include <cpuid.h>
#include <immintrin.h>

int sha256_x86_detect(void)
{
	unsigned int eax, ebx, ecx, edx;
	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return 0;
	if (!(ecx & bit_SSE4_1) || !(ecx & bit_SSSE3))
		return 0;
	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return 0;
	return (ebx & bit_SHA) != 0;
}

/*
 * The instructions keep the state as two registers, ABEF and CDGH (a in the top lane), and
 * do two rounds per sha256rnds2 with W[t] + K[t] in the low 64 bits of the third operand.
 * sha256msg1/sha256msg2 compute four message-schedule words W[t..t+3] (FIPS 180-4 §6.2.2)
 * from the previous sixteen; the W[t-7] term is added in between.
 */
#define SHA256_X86_ROUNDS(g, w)                                                                \
	do {                                                                                   \
		__m128i wk_ = _mm_add_epi32(                                                   \
			(w), _mm_loadu_si128((const __m128i *)&sha256_round_constants[4 * (g)])); \
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                 \
		abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0e));        \
	} while (0)

/* w0 = W[t-16..t-13] becomes W[t..t+3]; w1, w2, w3 are the next older groups. */
#define SHA256_X86_SCHEDULE(w0, w1, w2, w3)                                                    \
	do {                                                                                   \
		(w0) = _mm_sha256msg1_epu32((w0), (w1));                                       \
		(w0) = _mm_add_epi32((w0), _mm_alignr_epi8((w3), (w2), 4));                    \
		(w0) = _mm_sha256msg2_epu32((w0), (w3));                                       \
	} while (0)

__attribute__((target("sha,sse4.1,ssse3")))
void sha256_x86_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks)
{
	/* Big-endian message words into lanes. */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);

	__m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);

	for (; nblocks > 0; nblocks--, data += 64) {
		__m128i abef_in = abef, cdgh_in = cdgh;
		__m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), bswap);
		__m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), bswap);
		__m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), bswap);
		__m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), bswap);

		SHA256_X86_ROUNDS(0, w0);
		SHA256_X86_ROUNDS(1, w1);
		SHA256_X86_ROUNDS(2, w2);
		SHA256_X86_ROUNDS(3, w3);
		for (int g = 4; g < 16; g += 4) {
			SHA256_X86_SCHEDULE(w0, w1, w2, w3);
			SHA256_X86_ROUNDS(g, w0);
			SHA256_X86_SCHEDULE(w1, w2, w3, w0);
			SHA256_X86_ROUNDS(g + 1, w1);
			SHA256_X86_SCHEDULE(w2, w3, w0, w1);
			SHA256_X86_ROUNDS(g + 2, w2);
			SHA256_X86_SCHEDULE(w3, w0, w1, w2);
			SHA256_X86_ROUNDS(g + 3, w3);
		}
		abef = _mm_add_epi32(abef, abef_in);
		cdgh = _mm_add_epi32(cdgh, cdgh_in);
	}

	/* Back to a..h order. */
	__m128i feba = _mm_shuffle_epi32(abef, 0x1b);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xf0));
	_mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

#endif
