/* Crossbar read of conductance cells driven by input bit planes, by AND + popcount.
 *
 * A cell holds a level v in [0, 2^K - 1] (K = hardware.cell_bits), as K bit masks: a
 * subarray column's partial sum of one input plane b in {0, 1} is
 * sum_rows v*b = sum_k 2^k popcount(b AND cells_k). Input planes are packed WORD_BITS channels
 * to a word, so one word of one kernel offset serves that many rows of a subarray.
 * Every subarray column's partial sum goes through the ADC (clamp, grid code, dequantized:
 * lo + step*code, one range per column or one per layer) right where it is counted, and is
 * added, times its column weight (the array's digital scale and the bit slice's place value),
 * to its output: the A*P*J partial sums per output that make the matmul form of this read
 * memory-bound never reach memory.
 *
 * Plain C called through ctypes (no Python or torch headers: compiles in well under a second).
 * Built with -fopenmp, the library shares PyTorch's libgomp (the same soname, loaded first),
 * so the batch is split over PyTorch's own worker threads: separate threads would compete
 * with them while they spin-wait after each PyTorch op. Built without OpenMP (a compiler
 * that lacks it), the kernels run on one thread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Built twice (-DWORD_BITS=32 and 64); the caller picks per layer: 32-bit words suit groups of
 * <= 32 channels (AVX-512 counts 16 at once), 64-bit ones wider groups (half the terms). */
#if WORD_BITS == 32
typedef uint32_t word_t;
#define POPCOUNT(x) __builtin_popcount(x)
#elif WORD_BITS == 64
typedef uint64_t word_t;
#define POPCOUNT(x) __builtin_popcountll(x)
#else
#error "WORD_BITS must be 32 or 64"
#endif

/* codes: uint8 [N][H][W][C] integer activation codes, channels last. out: words
 * [P][N][Hp][Wp][G][Wd], Hp = H + 2*ph, Wp = W + 2*pw, all of it written (padding: zero). Bit p of channel c of group g lands in bit c%WORD_BITS of word c/WORD_BITS of that group's Wd
 * words (c counted within the group) of plane p. Branch-free: codes are noise to a predictor. */
static void pack_images(const uint8_t *codes, int N, int C, int H, int W, int P, int G,
                        int Wd, int ph, int pw, int n0, int n1, word_t *out) {
    const int Cg = C / G, Hp = H + 2 * ph, Wp = W + 2 * pw;
    const size_t plane = (size_t)N * Hp * Wp * G * Wd;
    for (int n = n0; n < n1; n++)
        for (int y = 0; y < Hp; y++)
            for (int x = 0; x < Wp; x++)
                if (y < ph || y >= H + ph || x < pw || x >= W + pw)
                    for (int p = 0; p < P; p++)
                        memset(out + p * plane + (((size_t)n * Hp + y) * Wp + x) * G * Wd, 0,
                               sizeof(word_t) * G * Wd);
    for (int n = n0; n < n1; n++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const uint8_t *src = codes + (((size_t)n * H + y) * W + x) * C;
                word_t *dst = out + (((size_t)n * Hp + y + ph) * Wp + x + pw) * G * Wd;
                for (int g = 0; g < G; g++)
                    for (int w = 0; w < Wd; w++) {
                        const int c0 = w * WORD_BITS, c1 = c0 + WORD_BITS < Cg ? c0 + WORD_BITS : Cg;
                        const uint8_t *in = src + g * Cg;
                        for (int p = 0; p < P; p++) {
                            word_t word = 0;
                            for (int c = c0; c < c1; c++)
                                word |= (word_t)((in[c] >> p) & 1) << (c - c0);
                            dst[p * plane + (size_t)g * Wd + w] = word;
                        }
                    }
            }
}

/* CHUNK output positions are read together: the inner loops run along them (long vector
 * loops, whatever the layer's width), and a chunk's gathered input words (P*T*CHUNK) and
 * outputs (Og*CHUNK) stay in L1/L2. */
#define CHUNK 128

/* dst[i] += w * ADC(z[i]) for i < m: clamp to [lo, hi], grid code, dequantized (lo + step*code,
 * the formula of the PyTorch ADC); no ADC (lo < hi false, see callers: has_adc 0): z itself. */
static inline void add_read(float *restrict dst, const int32_t *restrict z, int m, float w,
                            int has_adc, float lo, float hi, float step) {
    if (!has_adc) {
        for (int i = 0; i < m; i++) dst[i] += w * (float)z[i];
        return;
    }
    for (int i = 0; i < m; i++) {
        float v = (float)z[i];          /* an integer: no NaN, so plain compares clamp */
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
        dst[i] += w * (lo + step * rintf((v - lo) / step));
    }
}

/* z[i] += sum over the array's live terms of 2^k popcount(words AND cells_k), i < m. */
static inline void count_column(int32_t *restrict z, const word_t *restrict win,
                                const unsigned char *live, const word_t *col, int t0, int t1,
                                int Oc, int K, int m) {
    for (int t = t0; t < t1; t++) {
        if (!live[t]) continue;
        const word_t *restrict in = win + (size_t)t * CHUNK;
        for (int k = 0; k < K; k++) {
            const word_t bits = col[(size_t)t * Oc * K + k];
            if (!bits) continue;
            for (int i = 0; i < m; i++) z[i] += (int32_t)POPCOUNT(in[i] & bits) << k;
        }
    }
}

#define V 16   /* positions per register block */

static inline float adc_one(int32_t z, float lo, float hi, float step) {
    float v = (float)z;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return lo + step * rintf((v - lo) / step);
}

/* dst[i] += sum_p w[p] ADC(z_p[i]), i < mpad (a multiple of V), bit-serial: one column's
 * partial sums of every plane counted and read in registers, V positions at a time. A plane
 * with no live term reads z = 0 everywhere: skipped where the ADC reads 0 as 0 (skip_zero). */
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
#include <immintrin.h>
#define NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
static inline __m512i popcount_block(const word_t *in, word_t bits) {
#if WORD_BITS == 32
    return _mm512_popcnt_epi32(_mm512_and_si512(_mm512_loadu_si512(in),
                                                _mm512_set1_epi32((int)bits)));
#else
    const __m512i b = _mm512_set1_epi64((long long)bits);
    const __m256i lo = _mm512_cvtepi64_epi32(
        _mm512_popcnt_epi64(_mm512_and_si512(_mm512_loadu_si512(in), b)));
    const __m256i hi = _mm512_cvtepi64_epi32(
        _mm512_popcnt_epi64(_mm512_and_si512(_mm512_loadu_si512(in + 8), b)));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
#endif
}

static void read_column_serial(float *restrict dst, const word_t *restrict win,
                               const unsigned char *live, const word_t *col, int t0, int t1,
                               int T, int Oc, int K, int P, int mpad, const float *w,
                               int has_adc, float lo, float hi, float step, int skip_zero) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi), vstep = _mm512_set1_ps(step);
    for (int i0 = 0; i0 < mpad; i0 += V) {
        __m512 s = _mm512_setzero_ps();
        for (int p = 0; p < P; p++) {
            __m512i zz = _mm512_setzero_si512();
            int any = 0;
            for (int t = t0; t < t1; t++) {
                if (!live[p * T + t]) continue;
                const word_t *in = win + ((size_t)p * T + t) * CHUNK + i0;
                for (int k = 0; k < K; k++) {
                    const word_t bits = col[(size_t)t * Oc * K + k];
                    if (!bits) continue;
                    any = 1;
                    zz = _mm512_add_epi32(zz, _mm512_sllv_epi32(popcount_block(in, bits),
                                                                _mm512_set1_epi32(k)));
                }
            }
            if (!any && skip_zero) continue;
            __m512 v = _mm512_cvtepi32_ps(zz);
            if (has_adc) {   /* the PyTorch ADC's formula, without contraction */
                const __m512 d = _mm512_sub_ps(_mm512_min_ps(_mm512_max_ps(v, vlo), vhi), vlo);
                v = _mm512_roundscale_ps(_mm512_div_ps(d, vstep), NEAREST);
                v = _mm512_add_ps(vlo, _mm512_mul_ps(vstep, v));
            }
            s = _mm512_fmadd_ps(_mm512_set1_ps(w[p]), v, s);
        }
        _mm512_storeu_ps(dst + i0, _mm512_add_ps(_mm512_loadu_ps(dst + i0), s));
    }
}
#if defined(__AVX512VBMI__) && defined(__AVX512BW__)
#define HAVE_CODE_TABLES 1
/* The ADC codes of 16 integer partial sums z in [0, 255] from the column's table of 256 codes
 * (built by code_tables with the ADC's own formula, so the same codes as the division): one
 * byte permute for z < 128, two and a blend on bit 7 where the table is wide. */
static inline __m512 table_codes(__m512i z, const uint8_t *table, int wide) {
    const __m512i idx = _mm512_castsi128_si512(_mm512_cvtepi32_epi8(z));
    __m512i c = _mm512_permutex2var_epi8(_mm512_loadu_si512(table), idx,
                                         _mm512_loadu_si512(table + 64));
    if (wide) {
        const __m512i c2 = _mm512_permutex2var_epi8(_mm512_loadu_si512(table + 128), idx,
                                                    _mm512_loadu_si512(table + 192));
        c = _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), c, c2);
    }
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(c)));
}
#endif

/* The same for CB columns c0 .. c0+CB-1 at once (CB = 4): one load of each input block
 * serves them all, and the loop overhead is shared. dst[j], w[j*P + p], lo/hi/step[j]: column
 * j's output row, plane weights and ADC range. */
#define CB 4
#define HAVE_COLUMN_BLOCK 1
/* zz[j] = column c0+j's partial sums of plane p at positions i0 .. i0+V-1: the sum over the
 * terms tl[0 .. nt-1] (the array's terms where some of the CB columns has a cell on) of
 * 2^k popcount(words AND cells_k). Returns whether any of them has a live input word.
 * 64-bit words count in 64-bit lanes, narrowed once at the end. */
static inline int count_columns(__m512i *zz, const word_t *restrict win,
                                const unsigned char *live, const word_t *col, const int *tl,
                                int nt, int T, int Oc, int K, int p, int i0) {
    int any = 0;
    __m512i acc[CB][WORD_BITS / 32];
    for (int j = 0; j < CB; j++)
        for (int h = 0; h < WORD_BITS / 32; h++) acc[j][h] = _mm512_setzero_si512();
    if (K == 1) {   /* 1-bit cells (the default): no loop over cell bits, sums kept in registers */
        for (int u = 0; u < nt; u++) {
            const int t = tl[u];
            if (!live[p * T + t]) continue;
            any = 1;
            const word_t *in = win + ((size_t)p * T + t) * CHUNK + i0;
            const word_t *cells_t = col + (size_t)t * Oc;
            for (int h = 0; h < WORD_BITS / 32; h++) {
                const __m512i x = _mm512_loadu_si512(in + h * (512 / WORD_BITS));
                for (int j = 0; j < CB; j++)
#if WORD_BITS == 32
                    acc[j][h] = _mm512_add_epi32(acc[j][h], _mm512_popcnt_epi32(
                        _mm512_and_si512(x, _mm512_set1_epi32((int)cells_t[j]))));
#else
                    acc[j][h] = _mm512_add_epi64(acc[j][h], _mm512_popcnt_epi64(
                        _mm512_and_si512(x, _mm512_set1_epi64((long long)cells_t[j]))));
#endif
            }
        }
        nt = 0;
    }
    for (int u = 0; u < nt; u++) {
        const int t = tl[u];
        if (!live[p * T + t]) continue;
        any = 1;
        const word_t *in = win + ((size_t)p * T + t) * CHUNK + i0;
        const word_t *cells_t = col + (size_t)t * Oc * K;
        for (int h = 0; h < WORD_BITS / 32; h++) {
            const __m512i x = _mm512_loadu_si512(in + h * (512 / WORD_BITS));
            for (int k = 0; k < K; k++) {
                const __m128i shift = _mm_cvtsi32_si128(k);
                for (int j = 0; j < CB; j++) {
#if WORD_BITS == 32
                    const __m512i c = _mm512_popcnt_epi32(_mm512_and_si512(
                        x, _mm512_set1_epi32((int)cells_t[j * K + k])));
                    acc[j][h] = _mm512_add_epi32(acc[j][h], k ? _mm512_sll_epi32(c, shift) : c);
#else
                    const __m512i c = _mm512_popcnt_epi64(_mm512_and_si512(
                        x, _mm512_set1_epi64((long long)cells_t[j * K + k])));
                    acc[j][h] = _mm512_add_epi64(acc[j][h], k ? _mm512_sll_epi64(c, shift) : c);
#endif
                }
            }
        }
    }
    for (int j = 0; j < CB; j++) {
#if WORD_BITS == 32
        zz[j] = acc[j][0];
#else
        zz[j] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(acc[j][0])),
                                   _mm512_cvtepi64_epi32(acc[j][1]), 1);
#endif
    }
    return any;
}

static void read_columns_serial(float *const *dst, const word_t *restrict win,
                                const unsigned char *live, const word_t *col, const int *tl,
                                int nt,
                                int T, int Oc, int K, int P, int mpad, const float *w,
                                const float *lo, const float *hi, const float *step,
                                int skip_zero, const uint8_t *lut, int wide) {
    __m512 vlo[CB], vhi[CB], vstep[CB];
    for (int j = 0; j < CB; j++) {
        vlo[j] = _mm512_set1_ps(lo[j]);
        vhi[j] = _mm512_set1_ps(hi[j]);
        vstep[j] = _mm512_set1_ps(step[j]);
    }
    for (int i0 = 0; i0 < mpad; i0 += V) {
        __m512 s[CB];
        for (int j = 0; j < CB; j++) s[j] = _mm512_setzero_ps();
        for (int p = 0; p < P; p++) {
            __m512i zz[CB];
            const int any = count_columns(zz, win, live, col, tl, nt, T, Oc, K, p, i0);
            if (!any && skip_zero) continue;
            for (int j = 0; j < CB; j++) {
                __m512 r;
#ifdef HAVE_CODE_TABLES
                if (lut) {
                    r = table_codes(zz[j], lut + (size_t)j * 256, wide);
                } else
#endif
                {
                    const __m512 v = _mm512_cvtepi32_ps(zz[j]);
                    const __m512 d = _mm512_sub_ps(
                        _mm512_min_ps(_mm512_max_ps(v, vlo[j]), vhi[j]), vlo[j]);
                    r = _mm512_roundscale_ps(_mm512_div_ps(d, vstep[j]), NEAREST);
                }
                s[j] = _mm512_fmadd_ps(_mm512_set1_ps(w[j * P + p]),
                                       _mm512_add_ps(vlo[j], _mm512_mul_ps(vstep[j], r)), s[j]);
            }
        }
        for (int j = 0; j < CB; j++)
            _mm512_storeu_ps(dst[j] + i0, _mm512_add_ps(_mm512_loadu_ps(dst[j] + i0), s[j]));
    }
}
#ifdef HAVE_CODE_TABLES
/* The codes of 16 partial sums z in [0, 255] (int32 lanes) from a column's 256-byte table:
 * each lane's low byte indexes the table (its other bytes index entry 0, masked off). */
static inline __m512i table_lookup(__m512i z, const uint8_t *table, int wide) {
    __m512i c = _mm512_permutex2var_epi8(_mm512_loadu_si512(table), z,
                                         _mm512_loadu_si512(table + 64));
    if (wide) {
        const __m512i c2 = _mm512_permutex2var_epi8(_mm512_loadu_si512(table + 128), z,
                                                    _mm512_loadu_si512(table + 192));
        c = _mm512_mask_blend_epi32(_mm512_cmpge_epi32_mask(z, _mm512_set1_epi32(128)), c, c2);
    }
    return _mm512_and_si512(c, _mm512_set1_epi32(0xFF));
}

/* read_columns_serial where the planes' weights are place values (w_p = w_0·2^p, bit-serial
 * codes) and the codes come from tables: sum_p w_p ADC(z_p) = w_0·step·sum_p 2^p (code_p − c0)
 * + w_0·ADC(0)·(2^P − 1), c0 the code of z = 0, so the planes add up in integers and one
 * multiply per column and block turns them into the output. A plane skipped for having no live
 * term reads code c0 (its term is 0). coef[j] = w_0·step, bias[j] = w_0·ADC(0)·(2^P − 1). */
static void read_columns_table(float *const *dst, const word_t *restrict win,
                               const unsigned char *live, const word_t *col, const int *tl,
                               int nt,
                               int T, int Oc, int K, int P, int mpad, const uint8_t *lut,
                               int wide, const int *c0, const float *coef, const float *bias,
                               int skip_zero) {
    for (int i0 = 0; i0 < mpad; i0 += V) {
        __m512i acc[CB];
        for (int j = 0; j < CB; j++) acc[j] = _mm512_setzero_si512();
        int live_place = 0;
        for (int p = 0; p < P; p++) {
            __m512i zz[CB];
            const int any = count_columns(zz, win, live, col, tl, nt, T, Oc, K, p, i0);
            if (!any && skip_zero) continue;
            live_place += 1 << p;
            const __m512i place = _mm512_set1_epi32(p);
            for (int j = 0; j < CB; j++)
                acc[j] = _mm512_add_epi32(acc[j], _mm512_sllv_epi32(
                    table_lookup(zz[j], lut + (size_t)j * 256, wide), place));
        }
        for (int j = 0; j < CB; j++) {
            const __m512 v = _mm512_cvtepi32_ps(
                _mm512_sub_epi32(acc[j], _mm512_set1_epi32(c0[j] * live_place)));
            const __m512 out = _mm512_fmadd_ps(_mm512_set1_ps(coef[j]), v, _mm512_set1_ps(bias[j]));
            _mm512_storeu_ps(dst[j] + i0, _mm512_add_ps(_mm512_loadu_ps(dst[j] + i0), out));
        }
    }
}
#endif
#else
static void read_column_serial(float *restrict dst, const word_t *restrict win,
                               const unsigned char *live, const word_t *col, int t0, int t1,
                               int T, int Oc, int K, int P, int mpad, const float *w,
                               int has_adc, float lo, float hi, float step, int skip_zero) {
    int32_t z[CHUNK];
    for (int p = 0; p < P; p++) {
        memset(z, 0, sizeof(int32_t) * mpad);
        int any = 0;
        for (int t = t0; t < t1; t++) {
            if (!live[p * T + t]) continue;
            const word_t *restrict in = win + ((size_t)p * T + t) * CHUNK;
            for (int k = 0; k < K; k++) {
                const word_t bits = col[(size_t)t * Oc * K + k];
                if (!bits) continue;
                any = 1;
                for (int i = 0; i < mpad; i++) z[i] += (int32_t)POPCOUNT(in[i] & bits) << k;
            }
        }
        if (!any && skip_zero) continue;
        add_read(dst, z, mpad, w[p], has_adc, lo, hi, step);
    }
}
#endif

/* Subarray a of every group holds terms [term_start[a], term_start[a+1]); term t is one word
 * of input bits, made of parts [part_start[t], part_start[t+1]): part q is word term_word[q]
 * of the input at kernel offset (term_di[q], term_dj[q]), masked to its rows by term_mask[q]
 * and moved into place, >> part_shr[q] << part_shl[q] (several kernel offsets' narrow channel
 * slices share one word, so one popcount counts them all); cells [G][T][Oc][K] hold, per column and cell bit k, the cells
 * whose level has bit k set. Column c of group g belongs to output o = col_out[c] (J columns
 * an output: bit slices, in both arrays when differential; any order).
 * out[n][g*Og + o][oy][ox] = sum_q scale[q] sum_a sum_{c of o} colscale[g][a][c] *
 * ADC_{g,a,c}(z_{a,c,q}) [+ refcoef[g][a][o] * ADC_ref(r_{a,q})], q over the planes
 * (bit_serial) or one multi-bit read of sum_p 2^p z_p; the ADC range arrays are [G][A][Oc]
 * (NULL: no ADC, the partial sum itself). refcoef (NULL: none) adds each subarray's reference
 * column r (the popcount of its input rows), read through its own ADC (ref_range = lo, hi,
 * step; NULL: exact). reads[n] counts the ADC conversions of image n.
 * Per chunk of output positions, the input words of every (plane, term) are gathered first
 * (with the term's row mask), then each column's partial sum is counted, read and added to its
 * output, so no partial sum leaves a CHUNK-long buffer. */
static int read_images(const word_t *packed, int P, int N, int Hp, int Wp, int G, int Wd,
                       int A, const int32_t *term_start, const int32_t *part_start,
                       const int32_t *term_di, const int32_t *term_dj,
                       const int32_t *term_word, const word_t *term_mask,
                       const int32_t *part_shr, const int32_t *part_shl,
                       const word_t *cells, int T, int Oc, int J,
                       const int32_t *col_out, int K, int Ho, int Wo, int sh, int sw,
                       int bit_serial, const float *lo, const float *hi, const float *step,
                       const float *colscale, const float *refcoef, const float *ref_range,
                       const float *scale,
                       const uint8_t *luts, int wide, int n0, int n1, float *out,
                       int64_t *reads) {
    const size_t plane = (size_t)N * Hp * Wp * G * Wd, pixel = (size_t)G * Wd;
    const int Og = Oc / J, L = Ho * Wo, reads_per_position = A * (bit_serial ? P : 1) * Oc;
    word_t *win = malloc(sizeof(word_t) * (size_t)P * T * CHUNK);
    unsigned char *live = malloc((size_t)P * T);
    int32_t *z = malloc(sizeof(int32_t) * CHUNK * 4);
    float *acc = malloc(sizeof(float) * ((size_t)Og + 1) * CHUNK);
    int *tl = malloc(sizeof(int) * (size_t)T);
    if (!win || !live || !z || !acc || !tl) {
        free(win); free(live); free(z); free(acc); free(tl);
        return 1;
    }
    int32_t *multi = z + CHUNK, *zr = z + 2 * CHUNK, *multi_r = z + 3 * CHUNK;
    float *rval = acc + (size_t)Og * CHUNK, wcol[256];
    const int has_ref_adc = ref_range != 0;
    int places = bit_serial;   /* the planes' weights are place values: scale[p] = scale[0]·2^p */
    for (int p = 1; p < P; p++) places &= scale[p] == ldexpf(scale[0], p);
    const float rlo = ref_range ? ref_range[0] : 0, rhi = ref_range ? ref_range[1] : 0,
                rstep = ref_range ? ref_range[2] : 1;
    for (int n = n0; n < n1; n++)
        for (int g = 0; g < G; g++)
            for (int f0 = 0; f0 < L; f0 += CHUNK) {
                const int m = L - f0 < CHUNK ? L - f0 : CHUNK, mpad = (m + V - 1) / V * V;
                for (int p = 0; p < P; p++)
                    for (int t = 0; t < T; t++) {
                        word_t *dst = win + ((size_t)p * T + t) * CHUNK, any = 0;
                        for (int q = part_start[t]; q < part_start[t + 1]; q++) {
                            const word_t *base = packed + p * plane
                                                 + (size_t)n * Hp * Wp * pixel
                                                 + (size_t)g * Wd + term_word[q];
                            const word_t mask = term_mask[q];
                            const int shr = part_shr[q], shl = part_shl[q];
                            const int first = q == part_start[t];
                            const size_t stride = (size_t)sw * pixel;
                            /* one output row's run of positions at a time: a fixed stride */
                            for (int i = 0, oy = f0 / Wo, ox = f0 % Wo; i < m; oy++, ox = 0) {
                                const int run = Wo - ox < m - i ? Wo - ox : m - i;
                                const word_t *src = base + ((size_t)(oy * sh + term_di[q]) * Wp
                                                            + ox * sw + term_dj[q]) * pixel;
                                word_t *d = dst + i;
                                if (first) {
                                    for (int r = 0; r < run; r++) {
                                        d[r] = (src[r * stride] & mask) >> shr << shl;
                                        any |= d[r];
                                    }
                                } else {
                                    for (int r = 0; r < run; r++) {
                                        const word_t v = (src[r * stride] & mask) >> shr << shl;
                                        d[r] |= v;
                                        any |= v;
                                    }
                                }
                                i += run;
                            }
                        }
                        for (int i = m; i < mpad; i++) dst[i] = 0;
                        live[p * T + t] = any != 0;
                    }
                memset(acc, 0, sizeof(float) * (size_t)Og * CHUNK);
                for (int a = 0; a < A; a++) {
                    const size_t range = ((size_t)g * A + a) * Oc;
                    const int t0 = term_start[a], t1 = term_start[a + 1];
                    if (refcoef) {   /* the reference column: every row's cell on */
                        const float *coef = refcoef + ((size_t)g * A + a) * Og;
                        memset(multi_r, 0, sizeof(int32_t) * CHUNK);
                        for (int p = 0; p < P; p++) {
                            memset(zr, 0, sizeof(int32_t) * CHUNK);
                            for (int t = t0; t < t1; t++) {
                                if (!live[p * T + t]) continue;
                                const word_t *in = win + ((size_t)p * T + t) * CHUNK;
                                for (int i = 0; i < m; i++) zr[i] += POPCOUNT(in[i]);
                            }
                            if (bit_serial || p == P - 1) {
                                if (!bit_serial) {
                                    for (int i = 0; i < m; i++) zr[i] = multi_r[i] + (zr[i] << p);
                                }
                                memset(rval, 0, sizeof(float) * CHUNK);
                                add_read(rval, zr, m, bit_serial ? scale[p] : scale[0],
                                         has_ref_adc, rlo, rhi, rstep);
                                for (int o = 0; o < Og; o++) {
                                    const float co = coef[o];
                                    float *restrict d = acc + (size_t)o * CHUNK;
                                    for (int i = 0; i < m; i++) d[i] += co * rval[i];
                                }
                            } else {
                                for (int i = 0; i < m; i++) multi_r[i] += zr[i] << p;
                            }
                        }
                    }
                    int c = 0;
#ifdef HAVE_COLUMN_BLOCK
                    if (bit_serial && lo) {   /* CB columns at a time */
                        float *dsts[CB], wb[CB * 8];
                        for (; c + CB <= Oc; c += CB) {
                            const size_t r = range + c;
                            float zero_read = 0;
                            for (int j = 0; j < CB; j++) {
                                dsts[j] = acc + (size_t)col_out[c + j] * CHUNK;
                                for (int p = 0; p < P; p++) wb[j * P + p] = colscale[r + j] * scale[p];
                                zero_read += fabsf(adc_one(0, lo[r + j], hi[r + j], step[r + j]));
                            }
                            const word_t *col = cells + ((size_t)g * T * Oc + c) * K;
                            int nt = 0;   /* the terms where one of the block's cells is on */
                            for (int t = t0; t < t1; t++) {
                                word_t on = 0;
                                for (int q = 0; q < CB * K; q++) on |= col[(size_t)t * Oc * K + q];
                                if (on) tl[nt++] = t;
                            }
#ifdef HAVE_CODE_TABLES
                            if (luts && places) {
                                int c0[CB];
                                float coef[CB], bias[CB];
                                for (int j = 0; j < CB; j++) {
                                    const float w0 = colscale[r + j] * scale[0];
                                    c0[j] = luts[(r + j) * 256];
                                    coef[j] = w0 * step[r + j];
                                    bias[j] = w0 * adc_one(0, lo[r + j], hi[r + j], step[r + j])
                                              * (float)((1 << P) - 1);
                                }
                                read_columns_table(dsts, win, live, col, tl, nt, T, Oc, K, P,
                                                   mpad, luts + r * 256, wide, c0, coef, bias,
                                                   zero_read == 0);
                                continue;
                            }
#endif
                            read_columns_serial(dsts, win, live, col, tl, nt, T, Oc, K, P, mpad,
                                                wb, lo + r, hi + r, step + r, zero_read == 0,
                                                luts ? luts + r * 256 : 0, wide);
                        }
                    }
#endif
                    for (; c < Oc; c++) {
                        float *dst = acc + (size_t)col_out[c] * CHUNK;
                        const word_t *col = cells + ((size_t)g * T * Oc + c) * K;
                        const int has_adc = lo != 0;
                        const float clo = lo ? lo[range + c] : 0, chi = lo ? hi[range + c] : 0,
                                    cstep = lo ? step[range + c] : 1, cs = colscale[range + c];
                        if (bit_serial) {
                            for (int p = 0; p < P; p++) wcol[p] = cs * scale[p];
                            const int skip_zero = !has_adc || adc_one(0, clo, chi, cstep) == 0;
                            read_column_serial(dst, win, live, col, t0, t1, T, Oc, K, P, mpad,
                                               wcol, has_adc, clo, chi, cstep, skip_zero);
                            continue;
                        }
                        memset(multi, 0, sizeof(int32_t) * CHUNK);
                        for (int p = 0; p < P; p++) {
                            memset(z, 0, sizeof(int32_t) * CHUNK);
                            count_column(z, win + (size_t)p * T * CHUNK, live + p * T, col,
                                         t0, t1, Oc, K, m);
                            if (bit_serial) {
                                add_read(dst, z, m, cs * scale[p], has_adc, clo, chi, cstep);
                            } else {
                                for (int i = 0; i < m; i++) multi[i] += z[i] << p;
                            }
                        }
                        if (!bit_serial)
                            add_read(dst, multi, m, cs * scale[0], has_adc, clo, chi, cstep);
                    }
                }
                reads[n] += (int64_t)reads_per_position * m;
                for (int o = 0; o < Og; o++)
                    memcpy(out + ((size_t)n * G * Og + (size_t)g * Og + o) * L + f0,
                           acc + (size_t)o * CHUNK, sizeof(float) * m);
            }
    free(win);
    free(live);
    free(z);
    free(acc);
    free(tl);
    return 0;
}

/* Images [n0, n1) split evenly over the OpenMP team (or one call without OpenMP). */
#ifdef _OPENMP
#define SPLIT(call)                                                                        \
    _Pragma("omp parallel reduction(|:failed)")                                            \
    {                                                                                      \
        const int t = omp_get_thread_num(), k = omp_get_num_threads();                     \
        const int a = n0 + (int)((long)(n1 - n0) * t / k);                                \
        const int b = n0 + (int)((long)(n1 - n0) * (t + 1) / k);                           \
        call;                                                                              \
    }
#else
#define SPLIT(call) { const int a = n0, b = n1; call; }
#endif

void pack_planes(const uint8_t *codes, int N, int C, int H, int W, int P, int G, int Wd,
                 int ph, int pw, int n0, int n1, word_t *out) {
    int failed = 0;
    SPLIT(pack_images(codes, N, C, H, W, P, G, Wd, ph, pw, a, b, out))
    (void)failed;
}

#ifdef HAVE_CODE_TABLES
/* Each column's ADC code for every partial sum z = 0 .. 255 (256 bytes a column), where every
 * partial sum fits: the largest array's rows times the largest cell level at most 255, and
 * every code at most 255 (ADCs of up to 8 bits). *luts stays NULL where they don't (the reads
 * divide); 0 only when out of memory. *wide: some partial sum may exceed 127. */
static int code_tables(int A, const int32_t *term_start, const int32_t *part_start,
                       const word_t *term_mask, int columns,
                       int K, const float *lo, const float *hi, const float *step,
                       uint8_t **luts, int *wide) {
    int zmax = 0;
    for (int a = 0; a < A; a++) {
        int rows = 0;
        for (int q = part_start[term_start[a]]; q < part_start[term_start[a + 1]]; q++)
            rows += POPCOUNT(term_mask[q]);
        zmax = rows > zmax ? rows : zmax;
    }
    zmax *= (1 << K) - 1;
    if (zmax > 255) return 1;
    for (int i = 0; i < columns; i++)
        if (rintf((hi[i] - lo[i]) / step[i]) > 255 || !(step[i] > 0)) return 1;
    uint8_t *t = malloc((size_t)columns * 256);
    if (!t) return 0;
    for (int i = 0; i < columns; i++)
        for (int z = 0; z < 256; z++) {
            float v = (float)(z < zmax ? z : zmax);
            v = v < lo[i] ? lo[i] : v;
            v = v > hi[i] ? hi[i] : v;
            const float code = rintf((v - lo[i]) / step[i]);
            t[(size_t)i * 256 + z] = (uint8_t)(code < 0 ? 0 : code > 255 ? 255 : code);
        }
    *luts = t;
    *wide = zmax > 127;
    return 1;
}
#endif

int read_arrays(const word_t *packed, int P, int N, int Hp, int Wp, int G, int Wd,
                int A, const int32_t *term_start, const int32_t *part_start,
                const int32_t *term_di, const int32_t *term_dj, const int32_t *term_word,
                const word_t *term_mask, const int32_t *part_shr, const int32_t *part_shl,
                const word_t *cells, int T, int Oc, int J, const int32_t *col_out, int K,
                int Ho, int Wo, int sh, int sw, int bit_serial, const float *lo, const float *hi, const float *step,
                const float *colscale, const float *refcoef, const float *ref_range,
                const float *scale, int n0, int n1, float *out, int64_t *reads) {
    int failed = 0, wide = 0;
    uint8_t *luts = 0;
#ifdef HAVE_CODE_TABLES
    if (bit_serial && lo && !code_tables(A, term_start, part_start, term_mask, G * A * Oc, K,
                                         lo, hi, step, &luts, &wide))
        return 1;
#endif
    SPLIT(failed |= read_images(packed, P, N, Hp, Wp, G, Wd, A, term_start, part_start,
                                term_di, term_dj, term_word, term_mask, part_shr, part_shl,
                                cells, T, Oc, J, col_out, K, Ho, Wo, sh, sw, bit_serial,
                                lo, hi, step, colscale, refcoef, ref_range, scale, luts,
                                wide, a, b, out, reads))
    free(luts);
    return failed;
}
