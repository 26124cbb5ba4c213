/* Crossbar read of binary (+-1) cells driven by input bit planes, by AND + popcount.
 *
 * A subarray's partial sum of one input plane is sum_rows s*b with s in {-1, +1} and b in
 * {0, 1}: 2*popcount(b AND s+) - popcount(b), where s+ marks the +1 cells. Input planes are
 * packed WORD_BITS channels to a word, so one word of one kernel offset serves that many rows
 * of a subarray.
 * Every subarray's partial sum goes through the ADC (clamp, grid code) right where it is
 * counted, and only the sum of the codes is kept: the A*P partial sums per output that make
 * the matmul form of this read memory-bound never reach memory.
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

static inline float adc_code(int32_t z, int has_adc, float lo, float hi, float step) {
    if (!has_adc) return (float)z;
    float v = (float)z;                 /* an integer: no NaN, so plain compares clamp */
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return rintf((v - lo) / step);
}

/* Subarray a of every group holds terms [term_start[a], term_start[a+1]): term t reads word
 * term_word[t] (masked to its rows by term_mask[t]) of the input at kernel offset
 * (term_di[t], term_dj[t]); wpos [G][T][Og] holds the +1 cells of each output column there.
 * out[n][g*Og + o][oy][ox] = sum_q scale[q] * (step * sum_a code_{a,q} + A*lo), q over the
 * planes (bit_serial) or one multi-bit read of sum_p 2^p z_p. Without ADC: lo = 0, step = 1,
 * code = z. One output row at a time, so the inner loops run along the row (vectorised) and
 * the row's partial sums (Og*Wo of them) stay in L1. */
static int read_images(const word_t *packed, int P, int N, int Hp, int Wp, int G, int Wd,
                       int A, const int32_t *term_start, const int32_t *term_di,
                       const int32_t *term_dj, const int32_t *term_word,
                       const word_t *term_mask, const word_t *wpos, int T, int Og, int Ho,
                       int Wo, int sh, int sw, int bit_serial, int has_adc, float lo, float hi,
                       float step, const float *scale, int n0, int n1, float *out) {
    const size_t plane = (size_t)N * Hp * Wp * G * Wd, pixel = (size_t)G * Wd;
    const int reads = bit_serial ? P : 1, row = Og * Wo;
    word_t *words = malloc(sizeof(word_t) * Wo);
    int32_t *count = malloc(sizeof(int32_t) * Wo);
    int32_t *z = malloc(sizeof(int32_t) * row * 2);
    float *codes = malloc(sizeof(float) * row * reads);
    if (!words || !count || !z || !codes) {
        free(words); free(count); free(z); free(codes);
        return 1;
    }
    int32_t *multi = z + row;
    for (int n = n0; n < n1; n++)
        for (int g = 0; g < G; g++)
            for (int oy = 0; oy < Ho; oy++) {
                memset(codes, 0, sizeof(float) * row * reads);
                for (int a = 0; a < A; a++) {
                    if (!bit_serial) memset(multi, 0, sizeof(int32_t) * row);
                    for (int p = 0; p < P; p++) {
                        memset(z, 0, sizeof(int32_t) * row);
                        for (int t = term_start[a]; t < term_start[a + 1]; t++) {
                            const word_t *in = packed + p * plane
                                + (((size_t)n * Hp + oy * sh + term_di[t]) * Wp + term_dj[t])
                                  * pixel + (size_t)g * Wd + term_word[t];
                            const word_t mask = term_mask[t];
                            int any = 0;
                            for (int x = 0; x < Wo; x++) {
                                words[x] = in[(size_t)x * sw * pixel] & mask;
                                count[x] = POPCOUNT(words[x]);
                                any |= words[x] != 0;
                            }
                            if (!any) continue;
                            const word_t *pos = wpos + ((size_t)g * T + t) * Og;
                            for (int o = 0; o < Og; o++) {
                                const word_t cells = pos[o];
                                int32_t *zo = z + o * Wo;
                                for (int x = 0; x < Wo; x++)
                                    zo[x] += 2 * POPCOUNT(words[x] & cells) - count[x];
                            }
                        }
                        if (bit_serial) {
                            float *c = codes + p * row;
                            for (int i = 0; i < row; i++)
                                c[i] += adc_code(z[i], has_adc, lo, hi, step);
                        } else {
                            for (int i = 0; i < row; i++) multi[i] += z[i] << p;
                        }
                    }
                    if (!bit_serial)
                        for (int i = 0; i < row; i++)
                            codes[i] += adc_code(multi[i], has_adc, lo, hi, step);
                }
                for (int o = 0; o < Og; o++) {
                    float *dst = out + (((size_t)n * G * Og + (size_t)g * Og + o) * Ho + oy) * Wo;
                    for (int x = 0; x < Wo; x++) dst[x] = 0.0f;
                    for (int q = 0; q < reads; q++) {
                        const float *c = codes + q * row + o * Wo, sq = scale[q];
                        for (int x = 0; x < Wo; x++) dst[x] += (c[x] * step + A * lo) * sq;
                    }
                }
            }
    free(words);
    free(count);
    free(z);
    free(codes);
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
                const word_t *wpos, int T, int Og, int Ho, int Wo, int sh, int sw,
                int bit_serial, int has_adc, float lo, float hi, float step,
                const float *scale, int n0, int n1, float *out) {
    int failed = 0;
    SPLIT(failed |= read_images(packed, P, N, Hp, Wp, G, Wd, A, term_start, term_di, term_dj,
                                term_word, term_mask, wpos, T, Og, Ho, Wo, sh, sw, bit_serial,
                                has_adc, lo, hi, step, scale, a, b, out))
    return failed;
}
