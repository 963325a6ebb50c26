/* SPDX-License-Identifier: MIT */
/*
 * CRC-32 with the x86-64 carry-less multiply (PCLMULQDQ), after Intel's "Fast CRC
 * Computation for Generic Polynomials Using PCLMULQDQ Instruction". Only these functions are
 * compiled for those instructions (target attribute), so the rest of the program runs on any
 * x86-64 and crc32.c calls them only after crc32_x86_detect() said yes. Empty on other
 * architectures.
 */
#include "crc32_impl.h"

#ifdef CRC32_HAVE_X86

#include <cpuid.h>
#include <immintrin.h>

int crc32_x86_detect(void)
{
	unsigned int eax, ebx, ecx, edx;
	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return 0;
	return (ecx & bit_PCLMUL) != 0 && (ecx & bit_SSE4_1) != 0;
}

/*
 * Bit order: a 16-byte little-endian load holds the message's bits with the first one, the
 * highest power of x, in bit 0, so bit k of a block stands for x^(127-k) (the CRC is
 * "reflected"). Carry-less products of such values come out reflected too. Each constant
 * below is x^n mod P for the generator P (0x104C11DB7), reflected in 33 bits (bit j stands
 * for x^(32-j)); with that layout a 64-bit half times a constant lands on the bit positions
 * of the 128-bit block it is folded into. A wrong constant gives wrong CRCs for every
 * length that uses it, which tests/unit/test_crc32.c's cross-check with zlib finds.
 *
 * Folding a block forward by D bits onto the block there: its low half (x^64..x^127) times
 * x^(D+32) mod P plus its high half (x^0..x^63) times x^(D-32) mod P leaves the same
 * remainder mod P and is at most 95 bits long.
 */
#define CRC32_X86_X544 0x154442bd4LL /* fold by 512 bits (four blocks), low half */
#define CRC32_X86_X480 0x1c6e41596LL /* fold by 512 bits, high half */
#define CRC32_X86_X160 0x1751997d0LL /* fold by 128 bits (one block), low half */
#define CRC32_X86_X96 0x0ccaa009eLL  /* fold by 128 bits, high half; first step to 64 bits */
#define CRC32_X86_X64 0x163cd6124LL  /* 96 bits to 64 */
#define CRC32_X86_MU 0x1f7011641LL   /* floor(x^64 / P), for the Barrett reduction */
#define CRC32_X86_P 0x1db710641LL    /* P itself */

__attribute__((target("pclmul,sse4.1")))
static __m128i crc32_x86_fold(__m128i x, __m128i k, __m128i next)
{
	__m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
	__m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
	return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

__attribute__((target("pclmul,sse4.1")))
static __m128i crc32_x86_load(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)p);
}

/* The bits of the CRC register for a message that ends with block x: (x * x^32) mod P. */
__attribute__((target("pclmul,sse4.1")))
static uint32_t crc32_x86_reduce(__m128i x)
{
	const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
	const __m128i k96_64 = _mm_set_epi64x(CRC32_X86_X96, CRC32_X86_X64);
	const __m128i mu_p = _mm_set_epi64x(CRC32_X86_MU, CRC32_X86_P);
	/* x * x^32 = lo * x^96 + hi * x^32, with lo = x's x^64..x^127 part divided by x^64;
	 * lo * (x^96 mod P) + hi * x^32 is 96 bits, bit k is x^(95-k) */
	__m128i y = _mm_xor_si128(_mm_clmulepi64_si128(x, k96_64, 0x10), _mm_srli_si128(x, 8));
	/* the top 32 of those (bits 0..31) times x^64 mod P: 64 bits, bit k is x^(63-k) */
	__m128i z = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(y, mask32), k96_64, 0x00),
				  _mm_srli_si128(y, 4));
	/* Barrett: the quotient q = floor(z / P) is the top 32 bits of top(z) * mu; z - q * P is
	 * the remainder, in bits 32..63 */
	__m128i q = _mm_clmulepi64_si128(_mm_and_si128(z, mask32), mu_p, 0x10);
	__m128i r = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(q, mask32), mu_p, 0x00), z);
	return (uint32_t)_mm_extract_epi32(r, 1);
}

__attribute__((target("pclmul,sse4.1")))
uint32_t crc32_x86_update(uint32_t crc, const uint8_t *data, size_t len)
{
	if (len < 16)
		return crc32_portable(crc, data, len);
	const __m128i k4 = _mm_set_epi64x(CRC32_X86_X480, CRC32_X86_X544);
	const __m128i k1 = _mm_set_epi64x(CRC32_X86_X96, CRC32_X86_X160);
	/* zlib's CRC register starts inverted; it is the first 32 bits of the message, added */
	__m128i x = _mm_xor_si128(crc32_x86_load(data), _mm_cvtsi32_si128((int)~crc));
	data += 16;
	len -= 16;
	if (len >= 48) {
		/* four independent chains keep the multiplier busy */
		__m128i x1 = crc32_x86_load(data + 0);
		__m128i x2 = crc32_x86_load(data + 16);
		__m128i x3 = crc32_x86_load(data + 32);
		data += 48;
		len -= 48;
		for (; len >= 64; data += 64, len -= 64) {
			x = crc32_x86_fold(x, k4, crc32_x86_load(data + 0));
			x1 = crc32_x86_fold(x1, k4, crc32_x86_load(data + 16));
			x2 = crc32_x86_fold(x2, k4, crc32_x86_load(data + 32));
			x3 = crc32_x86_fold(x3, k4, crc32_x86_load(data + 48));
		}
		x = crc32_x86_fold(x, k1, x1);
		x = crc32_x86_fold(x, k1, x2);
		x = crc32_x86_fold(x, k1, x3);
	}
	for (; len >= 16; data += 16, len -= 16)
		x = crc32_x86_fold(x, k1, crc32_x86_load(data));
	/* the last 0..15 bytes go through the table code, continuing from this CRC */
	return crc32_portable(~crc32_x86_reduce(x), data, len);
}

#endif
