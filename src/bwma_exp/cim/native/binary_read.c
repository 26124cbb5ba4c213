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

static inline float adc_value(int32_t z, const float *lo, const float *hi, const float *step,
                              size_t i) {
    if (!lo) return (float)z;
    float v = (float)z;                 /* an integer: no NaN, so plain compares clamp */
    v = v < lo[i] ? lo[i] : v;
    v = v > hi[i] ? hi[i] : v;
    return lo[i] + step[i] * rintf((v - lo[i]) / step[i]);
}

/* acc[o][x] += s * coef[o] * ADC_ref(zr[x]): the reference column's read (one range, or none:
 * lo NULL) weighted by each output's offset. */
static void add_reference(float *acc, const int32_t *zr, const float *coef, float s, int Og,
                          int Wo, const float *lo, const float *hi, const float *step,
                          float *val) {
    for (int x = 0; x < Wo; x++) val[x] = adc_value(zr[x], lo, hi, step, 0) * s;
    for (int o = 0; o < Og; o++) {
        const float c = coef[o];
        float *dst = acc + o * Wo;
        for (int x = 0; x < Wo; x++) dst[x] += c * val[x];
    }
}

/* Subarray a of every group holds terms [term_start[a], term_start[a+1]): term t reads word
 * term_word[t] (masked to its rows by term_mask[t]) of the input at kernel offset
 * (term_di[t], term_dj[t]); cells [G][T][Oc][K] hold, per column and cell bit k, the cells
 * whose level has bit k set. Column c of group g belongs to output o = c / J (J bit slices).
 * out[n][g*Og + o][oy][ox] = sum_q scale[q] sum_a sum_{c of o} colscale[g][a][c] *
 * ADC_{g,a,c}(z_{a,c,q}) [+ refcoef[g][a][o] * ADC_ref(r_{a,q})], q over the planes
 * (bit_serial) or one multi-bit read of sum_p 2^p z_p; the ADC range arrays are [G][A][Oc]
 * (NULL: no ADC, the partial sum itself). refcoef (NULL: none) adds each subarray's reference
 * column r (the popcount of its input rows), read through its own ADC (ref_range = lo, hi,
 * step; NULL: exact).
 * reads[n] counts the ADC conversions of image n. One output row at a time, so the inner loops
 * run along the row (vectorised) and the row's partial sums (Oc*Wo of them) stay in L1. */
static int read_images(const word_t *packed, int P, int N, int Hp, int Wp, int G, int Wd,
                       int A, const int32_t *term_start, const int32_t *term_di,
                       const int32_t *term_dj, const int32_t *term_word,
                       const word_t *term_mask, const word_t *cells, int T, int Oc, int J,
                       int K, int Ho, int Wo, int sh, int sw, int bit_serial, const float *lo,
                       const float *hi, const float *step, const float *colscale,
                       const float *refcoef, const float *ref_range, const float *scale,
                       int n0, int n1, float *out, int64_t *reads) {
    const size_t plane = (size_t)N * Hp * Wp * G * Wd, pixel = (size_t)G * Wd;
    const int row = Oc * Wo, Og = Oc / J;
    word_t *words = malloc(sizeof(word_t) * Wo);
    int32_t *z = malloc(sizeof(int32_t) * (row + Wo) * 2);
    float *acc = malloc(sizeof(float) * (Og + 1) * Wo), *rval = acc + Og * Wo;
    if (!words || !z || !acc) {
        free(words); free(z); free(acc);
        return 1;
    }
    int32_t *multi = z + row, *zr = z + 2 * row, *multi_r = zr + Wo;
    const float *rlo = ref_range, *rhi = ref_range ? ref_range + 1 : 0,
                *rstep = ref_range ? ref_range + 2 : 0;
    for (int n = n0; n < n1; n++)
        for (int g = 0; g < G; g++)
            for (int oy = 0; oy < Ho; oy++) {
                memset(acc, 0, sizeof(float) * Og * Wo);
                for (int a = 0; a < A; a++) {
                    const size_t range = ((size_t)g * A + a) * Oc;
                    const float *cs = colscale + range;
                    if (!bit_serial) {
                        memset(multi, 0, sizeof(int32_t) * row);
                        memset(multi_r, 0, sizeof(int32_t) * Wo);
                    }
                    for (int p = 0; p < P; p++) {
                        memset(z, 0, sizeof(int32_t) * row);
                        memset(zr, 0, sizeof(int32_t) * Wo);
                        for (int t = term_start[a]; t < term_start[a + 1]; t++) {
                            const word_t *in = packed + p * plane
                                + (((size_t)n * Hp + oy * sh + term_di[t]) * Wp + term_dj[t])
                                  * pixel + (size_t)g * Wd + term_word[t];
                            const word_t mask = term_mask[t];
                            int any = 0;
                            for (int x = 0; x < Wo; x++) {
                                words[x] = in[(size_t)x * sw * pixel] & mask;
                                any |= words[x] != 0;
                            }
                            if (!any) continue;
                            if (refcoef)    /* the reference column: every row's cell on */
                                for (int x = 0; x < Wo; x++) zr[x] += POPCOUNT(words[x]);
                            const word_t *col = cells + ((size_t)g * T + t) * Oc * K;
                            for (int c = 0; c < Oc; c++)
                                for (int k = 0; k < K; k++) {
                                    const word_t bits = col[c * K + k];
                                    if (!bits) continue;
                                    int32_t *zc = z + c * Wo;
                                    for (int x = 0; x < Wo; x++)
                                        zc[x] += POPCOUNT(words[x] & bits) << k;
                                }
                        }
                        if (bit_serial) {
                            const float sq = scale[p];
                            for (int c = 0; c < Oc; c++) {
                                const float w = cs[c] * sq;
                                float *dst = acc + (c / J) * Wo;
                                const int32_t *zc = z + c * Wo;
                                for (int x = 0; x < Wo; x++)
                                    dst[x] += w * adc_value(zc[x], lo, hi, step, range + c);
                            }
                            if (refcoef) add_reference(acc, zr, refcoef + ((size_t)g * A + a) * Og,
                                                       sq, Og, Wo, rlo, rhi, rstep, rval);
                        } else {
                            for (int i = 0; i < row; i++) multi[i] += z[i] << p;
                            for (int x = 0; x < Wo; x++) multi_r[x] += zr[x] << p;
                        }
                    }
                    if (!bit_serial) {
                        for (int c = 0; c < Oc; c++) {
                            const float w = cs[c] * scale[0];
                            float *dst = acc + (c / J) * Wo;
                            for (int x = 0; x < Wo; x++)
                                dst[x] += w * adc_value(multi[c * Wo + x], lo, hi, step, range + c);
                        }
                        if (refcoef) add_reference(acc, multi_r, refcoef + ((size_t)g * A + a) * Og,
                                                   scale[0], Og, Wo, rlo, rhi, rstep, rval);
                    }
                }
                reads[n] += (int64_t)A * (bit_serial ? P : 1) * row;
                for (int o = 0; o < Og; o++)
                    memcpy(out + (((size_t)n * G * Og + (size_t)g * Og + o) * Ho + oy) * Wo,
                           acc + o * Wo, sizeof(float) * Wo);
            }
    free(words);
    free(z);
    free(acc);
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

int read_arrays(const word_t *packed, int P, int N, int Hp, int Wp, int G, int Wd,
                int A, const int32_t *term_start, const int32_t *term_di,
                const int32_t *term_dj, const int32_t *term_word, const word_t *term_mask,
                const word_t *cells, int T, int Oc, int J, int K, int Ho, int Wo, int sh,
                int sw, int bit_serial, const float *lo, const float *hi, const float *step,
                const float *colscale, const float *refcoef, const float *ref_range,
                const float *scale, int n0, int n1, float *out, int64_t *reads) {
    int failed = 0;
    SPLIT(failed |= read_images(packed, P, N, Hp, Wp, G, Wd, A, term_start, term_di, term_dj,
                                term_word, term_mask, cells, T, Oc, J, K, Ho, Wo, sh, sw,
                                bit_serial, lo, hi, step, colscale, refcoef, ref_range, scale,
                                a, b, out, reads))
    return failed;
}
