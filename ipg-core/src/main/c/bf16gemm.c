/*
 * The optional native BF16 matrix product of ipg (dev.ipg.core.tensor.NativeBf16 binds it).
 *
 *   out[i * n + j] = sum_s bf16(x[i * k + s]) * w[j * k + s]   for i < m, j0 <= j < j1
 *
 * x is F32 (activations, rounded to bf16 to nearest even here), w is BF16 row-major [n, k] (the
 * checkpoint's nn.Linear layout, read in place: no packed copy), out is F32 [m, n]. Each product
 * of two bf16 values is exact in F32; the sums are F32, accumulated in the order of the
 * instruction that computes them:
 *   - path 1 (AVX512_BF16): vdpbf16ps, one pair of k per step, s = 0, 2, 4, ... in order;
 *   - path 2 (AMX-BF16): tdpbf16ps, 32 k per tile step, in order of the tile steps.
 * Both instructions treat bf16 subnormal inputs as zero and flush subnormal results.
 *
 * Roles are swapped against the usual GEMM so that the weights need no packing: the weight rows
 * are the broadcast (AVX-512) or A-tile (AMX) operand, read straight from the row-major matrix,
 * and the activations, converted once per call, are laid out in pairs of k ("VNNI" layout) for 16
 * rows at a time: xp[(b * kp + p) * 16 + l] = bf16 pair (x[16 b + l, 2 p], x[16 b + l, 2 p + 1]).
 * The tiles hold the transposed output, which is transposed back when stored.
 *
 * Compiled with a baseline target; only the kernel functions use AVX-512 / AMX instructions
 * (function target attributes), and ipg_bf16_caps() says which may be called on this CPU.
 */
#include <immintrin.h>
#include <cpuid.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAP_AVX512BF16 1
#define CAP_AMX 2

#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))
#define AMX __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma,amx-tile,amx-bf16")))

static uint64_t xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t) hi << 32) | lo;
}

static int caps_value = -1;

/* Bit 0: the AVX512_BF16 path may run; bit 1: the AMX path may run (tile data permitted). */
int ipg_bf16_caps(void) {
    if (caps_value >= 0) {
        return caps_value;
    }
    int caps = 0;
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c >> 27 & 1) /* OSXSAVE */ && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        unsigned b7 = b, d7 = d;
        unsigned a71 = 0, b71, c71, d71;
        __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71);
        uint64_t x = xcr0();
        int avx512 = (b7 >> 16 & 1) && (b7 >> 30 & 1) && (b7 >> 31 & 1) && (b7 >> 17 & 1) /* F, BW, VL, DQ */
                && (x & 0xe6) == 0xe6; /* SSE, AVX, opmask, ZMM state enabled by the OS */
        if (avx512 && (a71 >> 5 & 1) /* AVX512_BF16 */) {
            caps |= CAP_AVX512BF16;
            if ((d7 >> 22 & 1) && (d7 >> 24 & 1) /* AMX-BF16, AMX-TILE */ && (x & 0x60000) == 0x60000) {
                /* Linux grants the tile data state per process, on request */
                unsigned long perm = 0;
                if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0
                        && syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) == 0
                        && (perm >> XFEATURE_XTILEDATA & 1)) {
                    caps |= CAP_AMX;
                }
            }
        }
    }
    caps_value = caps;
    return caps;
}

/* Per-thread scratch: the converted activations and (AMX) padded weight rows. */
static __thread void *scratch_x;
static __thread size_t scratch_x_bytes;
static __thread void *scratch_w;
static __thread size_t scratch_w_bytes;

static void *grow(void **p, size_t *have, size_t need) {
    if (need > *have) {
        free(*p);
        *p = NULL;
        *have = 0;
        need = (need + 4095) & ~(size_t) 4095;
        if (posix_memalign(p, 64, need) != 0) {
            *p = NULL;
            return NULL;
        }
        *have = need;
    }
    return *p;
}

/*
 * Rows [0, mp) of x (mp a multiple of 16; rows >= m are zero) to the pair layout, kp pairs per row
 * (pairs past (k + 1) / 2 are zero): xp[(b * kp + p) * 16 + l].
 */
AVX512 static void convert(const float *x, int m, int k, int mp, int kp, uint32_t *xp) {
    const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
            _mm512_set1_epi32(16));
    for (int i = 0; i < mp; i++) {
        uint32_t *dst = xp + (size_t) (i / 16) * kp * 16 + (i % 16);
        const float *row = x + (size_t) i * k;
        for (int p = 0; p < kp; p += 16) {
            __m512i v;
            int s = 2 * p;
            if (i >= m || s >= k) {
                v = _mm512_setzero_si512();
            } else if (s + 32 <= k) {
                v = (__m512i) _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + s + 16), _mm512_loadu_ps(row + s));
            } else {
                int r = k - s;
                __mmask16 lo = r >= 16 ? 0xffff : (__mmask16) ((1u << r) - 1);
                __mmask16 hi = r <= 16 ? 0 : (__mmask16) ((1u << (r - 16)) - 1);
                v = (__m512i) _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, row + s + 16), _mm512_maskz_loadu_ps(lo, row + s));
            }
            int left = kp - p;
            __mmask16 mk = left >= 16 ? 0xffff : (__mmask16) ((1u << left) - 1);
            _mm512_mask_i32scatter_epi32(dst + (size_t) p * 16, mk, lanes, v, 4);
        }
    }
}

/*
 * Stores the transposed tile ct[jj * ldt + l] (jj < nj <= 16, l < ni) into out[(i0 + l) * n + j0 + jj]:
 * one gather down a column of the tile and one masked store per output row.
 */
AVX512 static void store_transposed(const float *ct, int ldt, int nj, int ni, float *out, int n, int i0, int j0) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
            _mm512_set1_epi32(ldt));
    __mmask16 mk = nj >= 16 ? 0xffff : (__mmask16) ((1u << nj) - 1);
    for (int l = 0; l < ni; l++) {
        __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mk, idx, ct + l, 4);
        _mm512_mask_storeu_ps(out + (size_t) (i0 + l) * n + j0, mk, v);
    }
}

static inline uint32_t pair_at(const uint16_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/*
 * The AVX512_BF16 register tile: NJ weight rows (broadcast, a pair of k at a time) by NV vectors
 * of 16 input rows; ct[jj * 16 NV + l] = sum over the k pairs of row jj times input row l.
 */
#define TILE(NAME, NJ, NV)                                                                            \
    AVX512 static void NAME(const uint32_t *xb, int kp, const uint16_t *const *wr, int k, float *ct) { \
        __m512 c[NJ][NV];                                                                             \
        for (int jj = 0; jj < NJ; jj++)                                                               \
            for (int v = 0; v < NV; v++) c[jj][v] = _mm512_setzero_ps();                              \
        int full = k / 2;                                                                             \
        for (int p = 0; p < full; p++) {                                                              \
            __m512bh a[NV];                                                                           \
            for (int v = 0; v < NV; v++) a[v] = (__m512bh) _mm512_loadu_si512(xb + ((size_t) v * kp + p) * 16); \
            for (int jj = 0; jj < NJ; jj++) {                                                         \
                __m512bh b = (__m512bh) _mm512_set1_epi32((int) pair_at(wr[jj] + 2 * p));             \
                for (int v = 0; v < NV; v++) c[jj][v] = _mm512_dpbf16_ps(c[jj][v], a[v], b);          \
            }                                                                                         \
        }                                                                                             \
        if (k & 1) { /* the last column alone: its pair's second half is zero on both sides */       \
            __m512bh a[NV];                                                                           \
            for (int v = 0; v < NV; v++) a[v] = (__m512bh) _mm512_loadu_si512(xb + ((size_t) v * kp + full) * 16); \
            for (int jj = 0; jj < NJ; jj++) {                                                         \
                __m512bh b = (__m512bh) _mm512_set1_epi32((int) wr[jj][k - 1]);                       \
                for (int v = 0; v < NV; v++) c[jj][v] = _mm512_dpbf16_ps(c[jj][v], a[v], b);          \
            }                                                                                         \
        }                                                                                             \
        for (int jj = 0; jj < NJ; jj++)                                                               \
            for (int v = 0; v < NV; v++) _mm512_storeu_ps(ct + jj * 16 * NV + 16 * v, c[jj][v]);      \
    }

TILE(tile12x2, 12, 2)
TILE(tile16x1, 16, 1)

AVX512 static void matmul_avx512(const uint32_t *xp, int m, int k, int kp, const uint16_t *w, int n, int j0, int j1,
                                 float *out) {
    float ct[16 * 32] __attribute__((aligned(64)));
    const uint16_t *wr[16];
    int blocks = (m + 15) / 16;
    int pairs = blocks / 2 * 2;
    /* pairs of 16-row blocks against 12 weight rows (rows past j1 repeat row j: computed, not stored) */
    if (pairs > 0) {
        for (int j = j0; j < j1; j += 12) {
            int nj = j1 - j < 12 ? j1 - j : 12;
            for (int jj = 0; jj < 12; jj++) wr[jj] = w + (size_t) (jj < nj ? j + jj : j) * k;
            for (int b = 0; b < pairs; b += 2) {
                tile12x2(xp + (size_t) b * kp * 16, kp, wr, k, ct);
                int ni = m - 16 * b < 32 ? m - 16 * b : 32;
                store_transposed(ct, 32, nj, ni, out, n, 16 * b, j);
            }
        }
    }
    /* the last block when their number is odd, against 16 weight rows */
    if (pairs < blocks) {
        for (int j = j0; j < j1; j += 16) {
            int nj = j1 - j < 16 ? j1 - j : 16;
            for (int jj = 0; jj < 16; jj++) wr[jj] = w + (size_t) (jj < nj ? j + jj : j) * k;
            tile16x1(xp + (size_t) pairs * kp * 16, kp, wr, k, ct);
            store_transposed(ct, 16, nj, m - 16 * pairs, out, n, 16 * pairs, j);
        }
    }
}

/*
 * Few input rows (decode): the dot-product form. Rows of bf16 activations xr[i * kr + s] (kr = k
 * rounded up to 32, zero past k) against weight rows read 32 at a time (masked past k, so no byte
 * beyond a row is read); M rows by NJ weight rows of accumulators, each summed over its 16 lanes at
 * the end in a fixed tree (_mm512_reduce_add_ps).
 */
AVX512 static void convert_rows(const float *x, int m, int k, size_t ldx, int kr, uint16_t *xr) {
    for (int i = 0; i < m; i++) {
        const float *row = x + (size_t) i * ldx;
        for (int s = 0; s < kr; s += 32) {
            int r = k - s;
            __mmask16 lo = r >= 16 ? 0xffff : r <= 0 ? 0 : (__mmask16) ((1u << r) - 1);
            __mmask16 hi = r >= 32 ? 0xffff : r <= 16 ? 0 : (__mmask16) ((1u << (r - 16)) - 1);
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, row + s + 16), _mm512_maskz_loadu_ps(lo, row + s));
            _mm512_storeu_si512(xr + (size_t) i * kr + s, (__m512i) v);
        }
    }
}

#define DOT(NAME, M, NJ)                                                                              \
    AVX512 static void NAME(const uint16_t *xr, int kr, const uint16_t *w, int k, int n, int j0, int j1, float *out) { \
        for (int j = j0; j < j1; j += NJ) {                                                           \
            const uint16_t *wr[NJ];                                                                   \
            int nj = j1 - j < NJ ? j1 - j : NJ;                                                       \
            for (int jj = 0; jj < NJ; jj++) wr[jj] = w + (size_t) (jj < nj ? j + jj : j) * k;         \
            __m512 c[M][NJ];                                                                          \
            for (int i = 0; i < M; i++)                                                               \
                for (int jj = 0; jj < NJ; jj++) c[i][jj] = _mm512_setzero_ps();                       \
            for (int s = 0; s < k; s += 32) {                                                         \
                int r = k - s;                                                                        \
                __mmask32 mk = r >= 32 ? 0xffffffffu : (__mmask32) ((1u << r) - 1);                   \
                __m512bh b[NJ];                                                                       \
                for (int jj = 0; jj < NJ; jj++) b[jj] = (__m512bh) _mm512_maskz_loadu_epi16(mk, wr[jj] + s); \
                for (int i = 0; i < M; i++) {                                                         \
                    __m512bh a = (__m512bh) _mm512_loadu_si512(xr + (size_t) i * kr + s);             \
                    for (int jj = 0; jj < NJ; jj++) c[i][jj] = _mm512_dpbf16_ps(c[i][jj], a, b[jj]);  \
                }                                                                                     \
            }                                                                                         \
            float t[M][NJ];                                                                           \
            for (int i = 0; i < M; i++)                                                               \
                for (int jj = 0; jj < NJ; jj++) t[i][jj] = _mm512_reduce_add_ps(c[i][jj]);            \
            for (int i = 0; i < M; i++)                                                               \
                for (int jj = 0; jj < nj; jj++) out[(size_t) i * n + j + jj] = t[i][jj];              \
        }                                                                                             \
    }

DOT(dot1, 1, 8)
DOT(dot2, 2, 8)
DOT(dot3, 3, 6)
DOT(dot4, 4, 5)
DOT(dot5, 5, 4)
DOT(dot6, 6, 3)
DOT(dot7, 7, 3)
DOT(dot8, 8, 2)

/* Largest m of the dot-product form. */
#define DOT_ROWS 8

AVX512 static void matmul_dot(const uint16_t *xr, int m, int kr, const uint16_t *w, int k, int n, int j0, int j1, float *out) {
    switch (m) {
        case 1: dot1(xr, kr, w, k, n, j0, j1, out); break;
        case 2: dot2(xr, kr, w, k, n, j0, j1, out); break;
        case 3: dot3(xr, kr, w, k, n, j0, j1, out); break;
        case 4: dot4(xr, kr, w, k, n, j0, j1, out); break;
        case 5: dot5(xr, kr, w, k, n, j0, j1, out); break;
        case 6: dot6(xr, kr, w, k, n, j0, j1, out); break;
        case 7: dot7(xr, kr, w, k, n, j0, j1, out); break;
        default: dot8(xr, kr, w, k, n, j0, j1, out); break;
    }
}

/* The AMX tile configuration: C tiles 0-3 (16 x 16 f32), A tiles 4-5 (16 weight rows x 32 bf16), B tiles 6-7. */
struct tile_config {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

AMX static void matmul_amx(const uint32_t *xp, int m, int k, int kp, const uint16_t *w, int n, int j0, int j1,
                           float *out, uint16_t *wpad) {
    struct tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    _tile_loadconfig(&cfg);
    float ct[4][256] __attribute__((aligned(64)));
    uint16_t wt[32 * 32] __attribute__((aligned(64)));
    int blocks = (m + 31) / 32 * 2; /* 16-row blocks, padded to pairs */
    int kfull = k / 32 * 32;
    int tail = k - kfull;
    for (int j = j0; j < j1; j += 32) {
        int nj = j1 - j < 32 ? j1 - j : 32;
        const uint16_t *a = w + (size_t) j * k;
        size_t lda = (size_t) k * 2;
        if (nj < 32) {
            /* rows past the end of the slice: a zero-padded copy (the tile loads 16 rows at a time) */
            memset(wpad, 0, (size_t) 32 * k * 2);
            memcpy(wpad, a, (size_t) nj * k * 2);
            a = wpad;
        }
        if (tail) {
            memset(wt, 0, sizeof wt);
            for (int r = 0; r < nj; r++) memcpy(wt + r * 32, a + (size_t) r * k + kfull, (size_t) tail * 2);
        }
        for (int b = 0; b < blocks; b += 2) {
            const uint32_t *x0 = xp + (size_t) b * kp * 16;
            const uint32_t *x1 = x0 + (size_t) kp * 16;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int s = 0; s < kfull; s += 32) {
                _tile_loadd(4, a + s, lda);
                _tile_loadd(5, a + 16 * (size_t) k + s, lda);
                _tile_loadd(6, x0 + (size_t) s / 2 * 16, 64);
                _tile_loadd(7, x1 + (size_t) s / 2 * 16, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
            if (tail) {
                _tile_loadd(4, wt, 64);
                _tile_loadd(5, wt + 16 * 32, 64);
                _tile_loadd(6, x0 + (size_t) kfull / 2 * 16, 64);
                _tile_loadd(7, x1 + (size_t) kfull / 2 * 16, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
            _tile_stored(0, ct[0], 64);
            _tile_stored(1, ct[1], 64);
            _tile_stored(2, ct[2], 64);
            _tile_stored(3, ct[3], 64);
            int i0 = 16 * b;
            for (int q = 0; q < 4; q++) {
                int jr = (q >> 1) * 16;
                int ir = i0 + (q & 1) * 16;
                int njq = nj - jr < 16 ? nj - jr : 16;
                int niq = m - ir < 16 ? m - ir : 16;
                if (njq > 0 && niq > 0) {
                    store_transposed(ct[q], 16, njq, niq, out, n, ir, j + jr);
                }
            }
        }
    }
    _tile_release();
}

/*
 * out[i * n + j] = sum_s bf16(x[i * k + s]) * w[j * k + s] for i < m, j0 <= j < j1 (other columns
 * of out untouched). path 1: AVX512_BF16, path 2: AMX. Returns 0, or -1 when the path is not
 * available on this CPU, -2 when scratch memory could not be allocated.
 */
int ipg_bf16_matmul(int path, const float *x, int m, int k, const uint16_t *w, int n, int j0, int j1, float *out) {
    int caps = ipg_bf16_caps();
    if ((path == 1 && !(caps & CAP_AVX512BF16)) || (path == 2 && !(caps & CAP_AMX)) || (path != 1 && path != 2)) {
        return -1;
    }
    if (m <= 0 || j0 >= j1) {
        return 0;
    }
    if (k <= 0) {
        for (int i = 0; i < m; i++) memset(out + (size_t) i * n + j0, 0, (size_t) (j1 - j0) * 4);
        return 0;
    }
    /* decode shapes: the dot-product form (on the AMX path for one row only, where tiles of 32 rows waste most) */
    if (m <= (path == 1 ? DOT_ROWS : 1)) {
        int kr = (k + 31) / 32 * 32;
        uint16_t *xr = grow(&scratch_x, &scratch_x_bytes, (size_t) m * kr * 2);
        if (xr == NULL) {
            return -2;
        }
        convert_rows(x, m, k, (size_t) k, kr, xr);
        matmul_dot(xr, m, kr, w, k, n, j0, j1, out);
        return 0;
    }
    /* AMX reads pairs 16 at a time and input rows 32 at a time; AVX-512 rows 16 at a time */
    int kp = path == 2 ? (k + 31) / 32 * 16 : (k + 1) / 2;
    int mp = path == 2 ? (m + 31) / 32 * 32 : (m + 15) / 16 * 16;
    uint32_t *xp = grow(&scratch_x, &scratch_x_bytes, (size_t) mp * kp * 4);
    if (xp == NULL) {
        return -2;
    }
    convert(x, m, k, mp, kp, xp);
    if (path == 1) {
        matmul_avx512(xp, m, k, kp, w, n, j0, j1, out);
    } else {
        uint16_t *wpad = grow(&scratch_w, &scratch_w_bytes, (size_t) 32 * k * 2);
        if (wpad == NULL) {
            return -2;
        }
        matmul_amx(xp, m, k, kp, w, n, j0, j1, out, wpad);
    }
    return 0;
}

/*
 * The input gradient of the product: dx[i * k + s] += sum_j bf16(dy[i * n + j]) * w[j * k + s] for
 * i < m, s0 <= s < s1 (other columns of dx untouched). Here the inner index j runs down the weight
 * rows, so the weights are the vector operand: per block of DEPTH_PAIRS pairs of rows and 32
 * columns, they are interleaved into pairs of j (wp[(v * np + p) * 16 + l] = (w[j0 + 2p, c + 16v + l],
 * w[j0 + 2p + 1, c + 16v + l]), zero past n and s1), and IG_ROWS rows of bf16 dy broadcast a pair at
 * a time against them. Each block's F32 sums (vdpbf16ps, pairs in order) are added to dx, blocks
 * in order of j; the order does not depend on s0, s1, so neither on the split over threads.
 */
#define DEPTH_PAIRS 512
#define IG_ROWS 12
#define IG_CHUNK 240

AVX512 static void pack_pairs(const uint16_t *w, int n, int k, int j0, int np, int c, int nc, uint32_t *wp) {
    static const short lo_idx[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
                                     8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
    __m512i lo = _mm512_loadu_si512(lo_idx);
    __m512i hi = _mm512_add_epi16(lo, _mm512_set1_epi16(16));
    __mmask32 mk = nc >= 32 ? 0xffffffffu : (__mmask32) ((1u << nc) - 1);
    for (int p = 0; p < np; p++) {
        int j = j0 + 2 * p;
        __m512i a = j < n ? _mm512_maskz_loadu_epi16(mk, w + (size_t) j * k + c) : _mm512_setzero_si512();
        __m512i b = j + 1 < n ? _mm512_maskz_loadu_epi16(mk, w + (size_t) (j + 1) * k + c) : _mm512_setzero_si512();
        _mm512_storeu_si512(wp + (size_t) p * 16, _mm512_permutex2var_epi16(a, lo, b));
        _mm512_storeu_si512(wp + ((size_t) np + p) * 16, _mm512_permutex2var_epi16(a, hi, b));
    }
}

/* dx rows r < ni (row r at dx + r * ldx), columns < nc (<= 32) += the sums over np pairs of the IG_ROWS dy rows dr[r]. */
AVX512 static void igrad_tile(const uint32_t *wp, int np, const uint16_t *const *dr, float *dx, size_t ldx, int ni, int nc) {
    __m512 c[IG_ROWS][2];
    for (int r = 0; r < IG_ROWS; r++) {
        c[r][0] = _mm512_setzero_ps();
        c[r][1] = _mm512_setzero_ps();
    }
    for (int p = 0; p < np; p++) {
        __m512bh b0 = (__m512bh) _mm512_loadu_si512(wp + (size_t) p * 16);
        __m512bh b1 = (__m512bh) _mm512_loadu_si512(wp + ((size_t) np + p) * 16);
        for (int r = 0; r < IG_ROWS; r++) {
            __m512bh a = (__m512bh) _mm512_set1_epi32((int) pair_at(dr[r] + 2 * p));
            c[r][0] = _mm512_dpbf16_ps(c[r][0], a, b0);
            c[r][1] = _mm512_dpbf16_ps(c[r][1], a, b1);
        }
    }
    __mmask16 m0 = nc >= 16 ? 0xffff : (__mmask16) ((1u << nc) - 1);
    __mmask16 m1 = nc >= 32 ? 0xffff : nc <= 16 ? 0 : (__mmask16) ((1u << (nc - 16)) - 1);
    for (int r = 0; r < ni; r++) {
        float *o = dx + (size_t) r * ldx;
        _mm512_mask_storeu_ps(o, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, o), c[r][0]));
        _mm512_mask_storeu_ps(o + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, o + 16), c[r][1]));
    }
}

AVX512 static int igrad_avx512(const float *dy, int m, int n, const uint16_t *w, int k, int s0, int s1, float *dx) {
    int rows = m < IG_CHUNK ? m : IG_CHUNK;
    uint16_t *db = grow(&scratch_x, &scratch_x_bytes, (size_t) rows * 2 * DEPTH_PAIRS * 2);
    uint32_t *wp = grow(&scratch_w, &scratch_w_bytes, (size_t) 2 * DEPTH_PAIRS * 16 * 4);
    if (db == NULL || wp == NULL) {
        return -2;
    }
    const uint16_t *dr[IG_ROWS];
    for (int i0 = 0; i0 < m; i0 += IG_CHUNK) {
        int mi = m - i0 < IG_CHUNK ? m - i0 : IG_CHUNK;
        for (int j0 = 0; j0 < n; j0 += 2 * DEPTH_PAIRS) {
            int nj = n - j0 < 2 * DEPTH_PAIRS ? n - j0 : 2 * DEPTH_PAIRS;
            int np = (nj + 1) / 2;
            int kr = (2 * np + 31) / 32 * 32; /* whole groups of 32, zero past nj; at most 2 DEPTH_PAIRS */
            convert_rows(dy + (size_t) i0 * n + j0, mi, nj, (size_t) n, kr, db);
            for (int c = s0; c < s1; c += 32) {
                int nc = s1 - c < 32 ? s1 - c : 32;
                pack_pairs(w, n, k, j0, np, c, nc, wp);
                for (int r0 = 0; r0 < mi; r0 += IG_ROWS) {
                    int ni = mi - r0 < IG_ROWS ? mi - r0 : IG_ROWS;
                    for (int r = 0; r < IG_ROWS; r++) dr[r] = db + (size_t) (r0 + (r < ni ? r : 0)) * kr;
                    igrad_tile(wp, np, dr, dx + (size_t) (i0 + r0) * k + c, (size_t) k, ni, nc);
                }
            }
        }
    }
    return 0;
}

/*
 * dx[i * k + s] += sum_j bf16(dy[i * n + j]) * w[j * k + s] for i < m, s0 <= s < s1. Both paths
 * run on vdpbf16ps (AVX512_BF16). Returns 0, -1 when the path is not available on this CPU, -2
 * when scratch memory could not be allocated.
 */
int ipg_bf16_matmul_input_grad(int path, const float *dy, int m, int n, const uint16_t *w, int k, int s0, int s1, float *dx) {
    int caps = ipg_bf16_caps();
    if ((path == 1 && !(caps & CAP_AVX512BF16)) || (path == 2 && !(caps & CAP_AMX)) || (path != 1 && path != 2)) {
        return -1;
    }
    if (m <= 0 || n <= 0 || s0 >= s1) {
        return 0;
    }
    return igrad_avx512(dy, m, n, w, k, s0, s1, dx);
}
