/*
 * Copyright (c) 2013 Damien Miller <djm@mindrot.org>
 *
 * Adapted by Will Cosgrove <will@panic.com> for libssh2
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

/* $OpenBSD: cipher-chachapoly.c,v 1.8 2016/08/03 05:41:57 djm Exp $ */

#include "libssh2_priv.h"
#include "cipher-chachapoly.h"

static int chachapoly_timingsafe_bcmp(const void *b1, const void *b2, size_t n)
{
    const unsigned char *p1 = b1, *p2 = b2;
    int ret = 0;

    for(; n > 0; n--)
        ret |= *p1++ ^ *p2++;
    return ret != 0;
}

/*
 * recpipe's change (vendor/libssh2-sys, README.recpipe.md): the payload of
 * each packet, nearly all the bytes, is encrypted with OpenSSL's ChaCha20
 * (vectorised for the CPU at run time) instead of the portable C one; the
 * length header, the Poly1305 key and Poly1305 itself stay as they were.
 * Same cipher, same bytes: OpenSSL's 16-byte ChaCha20 IV is the 32-bit
 * block counter then a 96-bit nonce, and the SSH construction's state is
 * a 64-bit counter then the 64-bit sequence number, so the IV is the
 * counter's 8 little-endian bytes (counter below 2^32, so its high word is
 * 0 and lands in the nonce's first word) then the sequence number.
 */
/* Process-wide switch, on by default (defined wherever this file builds,
   used only where OpenSSL's ChaCha20 is there); recpipe's benchmarks switch
   it off to measure what it pays
   (recpipe::destination::sftp::set_openssl_chacha20). */
volatile int libssh2_recpipe_evp_chacha20 = 1;

#if defined(LIBSSH2_OPENSSL) && !defined(LIBRESSL_VERSION_NUMBER) && \
    OPENSSL_VERSION_NUMBER >= 0x10100000L && !defined(OPENSSL_NO_CHACHA)
#define RECPIPE_EVP_CHACHA20 1
/* 0: done; 1: not started (no context), the portable code is to do it;
   -1: failed after it may have written to dest (in place: src too). */
static int chachapoly_evp_payload(const unsigned char *key,
                                  const unsigned char *seqbuf,
                                  const unsigned char *src,
                                  unsigned char *dest, size_t len)
{
    unsigned char iv[16];
    EVP_CIPHER_CTX *evp;
    int outl = 0;
    int ok;

    if(len > 0x7fffffff)
        return 1;
    memset(iv, 0, sizeof(iv));
    iv[0] = 1; /* block counter 1: block 0 made the Poly1305 key */
    memcpy(iv + 8, seqbuf, 8);
    evp = EVP_CIPHER_CTX_new();
    if(!evp)
        return 1;
    if(EVP_EncryptInit_ex(evp, EVP_chacha20(), NULL, key, iv) != 1) {
        EVP_CIPHER_CTX_free(evp);
        return 1;
    }
    ok = EVP_EncryptUpdate(evp, dest, &outl, src, (int)len) == 1 &&
         (size_t)outl == len;
    EVP_CIPHER_CTX_free(evp);
    ssh2_explicit_zero(iv, sizeof(iv));
    return ok ? 0 : -1;
}
#endif

int chachapoly_init(struct chachapoly_ctx *ctx, const unsigned char *key,
                    size_t keylen)
{
    if(keylen != (32 + 32)) /* 2 x 256-bit keys */
        return LIBSSH2_ERROR_INVAL;
    memcpy(ctx->main_key, key, CHACHA_KEYLEN);
    chacha_keysetup(&ctx->main_ctx, key, 256);
    chacha_keysetup(&ctx->header_ctx, key + 32, 256);
    return 0;
}

/*
 * chachapoly_crypt() operates as following:
 * En/decrypt with header key 'aadlen' bytes from 'src', storing result
 * to 'dest'. The ciphertext here is treated as additional authenticated
 * data for MAC calculation.
 * En/decrypt 'len' bytes at offset 'aadlen' from 'src' to 'dest'. Use
 * POLY1305_TAGLEN bytes at offset 'len'+'aadlen' as the authentication
 * tag. This tag is written on encryption and verified on decryption.
 */
int chachapoly_crypt(struct chachapoly_ctx *ctx, libssh2_uint64_t seqnr,
                     unsigned char *dest, const unsigned char *src, size_t len,
                     size_t aadlen, int do_encrypt)
{
    static const unsigned char one[8] = {
        1, 0, 0, 0, 0, 0, 0, 0  /* NB little-endian */
    };
    unsigned char seqbuf[8];
    unsigned char expected_tag[POLY1305_TAGLEN], poly_key[POLY1305_KEYLEN];
    int r = LIBSSH2_ERROR_DECRYPT;  /* fail */
    unsigned char *ptr = NULL;

    /*
     * Run ChaCha20 once to generate the Poly1305 key. The IV is the
     * packet sequence number.
     */
    memset(poly_key, 0, sizeof(poly_key));
    ptr = &seqbuf[0];
    ssh2_store_u64(&ptr, seqnr);
    chacha_ivsetup(&ctx->main_ctx, seqbuf, NULL);
    chacha_encrypt_bytes(&ctx->main_ctx, poly_key, poly_key, sizeof(poly_key));

    /* If decrypting, check tag before anything else */
    if(!do_encrypt) {
        const unsigned char *tag = src + aadlen + len;

        poly1305_auth(expected_tag, src, aadlen + len, poly_key);
        if(chachapoly_timingsafe_bcmp(expected_tag, tag, POLY1305_TAGLEN))
            goto out;
    }

    /* Crypt additional data */
    if(aadlen) {
        chacha_ivsetup(&ctx->header_ctx, seqbuf, NULL);
        chacha_encrypt_bytes(&ctx->header_ctx, src, dest, aadlen);
    }

    /* Set Chacha's block counter to 1 */
    {
        int evp_rc = 1;
#ifdef RECPIPE_EVP_CHACHA20
        if(libssh2_recpipe_evp_chacha20)
            evp_rc = chachapoly_evp_payload(ctx->main_key, seqbuf,
                                            src + aadlen, dest + aadlen, len);
        if(evp_rc < 0)
            goto out;
#endif
        if(evp_rc) {
            chacha_ivsetup(&ctx->main_ctx, seqbuf, one);
            chacha_encrypt_bytes(&ctx->main_ctx, src + aadlen, dest + aadlen,
                                 len);
        }
    }

    /* If encrypting, calculate and append tag */
    if(do_encrypt)
        poly1305_auth(dest + aadlen + len, dest, aadlen + len, poly_key);

    r = LIBSSH2_ERROR_NONE;
out:
    ssh2_explicit_zero(expected_tag, sizeof(expected_tag));
    ssh2_explicit_zero(seqbuf, sizeof(seqbuf));
    ssh2_explicit_zero(poly_key, sizeof(poly_key));
    return r;
}

/* Decrypt and extract the encrypted packet length */
int chachapoly_get_length(struct chachapoly_ctx *ctx, unsigned int *plenp,
                          libssh2_uint64_t seqnr, const unsigned char *cp,
                          size_t len)
{
    unsigned char buf[4], seqbuf[8];
    unsigned char *ptr = NULL;

    if(len < 4)
        return -1;  /* fail */
    ptr = &seqbuf[0];
    ssh2_store_u64(&ptr, seqnr);
    chacha_ivsetup(&ctx->header_ctx, seqbuf, NULL);
    chacha_encrypt_bytes(&ctx->header_ctx, cp, buf, 4);
    *plenp = ssh2_ntohu32(buf);
    return 0;  /* success */
}
