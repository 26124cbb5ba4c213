"""The tiled read of a layer whose cells hold exact integer levels (no variation), by the
AND + popcount kernel of ``native/binary_read.c``: the values of the op-by-op read
(``partial_sums``) without ever storing the A·P·J partial sums per output. Forward only: it
serves evaluation and the straight-through training read (``Crossbar`` with
``cim.adc_grad=ste``). With 1-bit cells every method's cells are off/on, so it serves them all.

A subarray's rows are (channel, kernel offset) pairs (``hardware.mapping.row_arrays``); the
kernel reads them as terms, one per (subarray, kernel offset, word of 32 or 64 channels), each
with a mask of the word's channels that the subarray holds, so every mapping is the same loop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..hardware.mapping import row_arrays
from . import native

MAX_PLANES = 8   # codes travel as uint8
MAX_CELL_BITS = 4
_DTYPE = {32: torch.int32, 64: torch.int64}


@dataclass(frozen=True)
class Terms:
    """A layer's subarrays as the kernel reads them. A term is one word of input bits that one
    popcount counts against a column's cells: its parts are (kernel offset, channel word)
    slices of the subarray's rows, each masked and shifted into its own bits of the term, so
    narrow slices (a few channels per kernel offset, as channel-grouped arrays hold) share a
    word instead of each filling one."""

    start: torch.Tensor       # (A + 1,) int32: subarray a holds terms start[a] .. start[a+1]-1
    part_start: torch.Tensor  # (T + 1,) int32: term t is parts part_start[t] .. [t+1]-1
    offset: torch.Tensor      # (Q,) long: each part's kernel offset i·K_w + j
    word: torch.Tensor        # (Q,) int32: which word of the group's channels
    mask: torch.Tensor        # (Q,) int32/int64: the word's channels the part holds, as bits
    shr: torch.Tensor         # (Q,) int32: the part's bits move >> shr << shl into the term
    shl: torch.Tensor
    rows: torch.Tensor        # (4, R) long: every row's channel, kernel offset, term, term bit
    kernel: tuple[int, int]
    words: int                # words per group: ceil(C_group / word_bits)
    word_bits: int            # 32 for groups of up to 32 channels (16 counted at once), else 64

    @classmethod
    def build(cls, c_group: int, kernel: tuple[int, int], subarray: int, mapping: str) -> Terms:
        area = kernel[0] * kernel[1]
        word_bits = 32 if c_group <= 32 else 64
        start, part_start, parts, rows = [0], [0], [], []
        for array in row_arrays(c_group, kernel[0], kernel[1], subarray, mapping):
            bits: dict[tuple[int, int], int] = {}
            for row in array:
                c, k = divmod(row, area)
                w = c // word_bits
                bits[k, w] = bits.get((k, w), 0) | 1 << (c % word_bits)
            filled = word_bits   # bits used in the term being filled: none open yet
            for (k, w), m in sorted(bits.items()):
                lo = (m & -m).bit_length() - 1
                width = m.bit_length() - lo
                if filled + width > word_bits:     # a new term
                    part_start.append(part_start[-1])
                    filled = 0
                parts.append((k, w, _signed(m, word_bits), lo, filled))
                rows += [(c, k, len(part_start) - 2, filled + c % word_bits - lo)
                         for c in range(w * word_bits, (w + 1) * word_bits)
                         if m >> (c % word_bits) & 1]
                part_start[-1] += 1
                filled += width
            start.append(len(part_start) - 1)
        k, w, m, shr, shl = zip(*parts)
        i32 = dict(dtype=torch.int32)
        return cls(torch.tensor(start, **i32), torch.tensor(part_start, **i32),
                   torch.tensor(k), torch.tensor(w, **i32),
                   torch.tensor(m, dtype=_DTYPE[word_bits]), torch.tensor(shr, **i32),
                   torch.tensor(shl, **i32), torch.tensor(rows).t().contiguous(),
                   kernel, math.ceil(c_group / word_bits), word_bits)

    @property
    def arrays(self) -> int:
        return self.start.numel() - 1

    @property
    def count(self) -> int:
        """Terms T (the kernel's cells hold one word per term and column)."""
        return self.part_start.numel() - 1

    def kernel_shift(self, dilation: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Each part's input offset (rows, columns) from an output's window corner."""
        kw = self.kernel[1]
        di = (self.offset // kw * dilation[0]).to(torch.int32)
        dj = (self.offset % kw * dilation[1]).to(torch.int32)
        return di, dj

    def pack_weight(self, levels: torch.Tensor, groups: int, cell_bits: int) -> torch.Tensor:
        """(G, T, Oc, K) words: for every column under each term and cell bit k, the cells whose
        level has bit k set, at their rows' term bits; ``levels`` (G·Oc, C_group·K²) integer
        cell levels."""
        o, area = levels.shape[0], self.kernel[0] * self.kernel[1]
        code = levels.round().to(torch.int64).reshape(groups, o // groups, -1, area)
        channel, offset, term, bit = self.rows
        planes = []
        for k in range(cell_bits):
            on = (code[:, :, channel, offset] >> k) & 1       # (G, Oc, R)
            cells = on.new_zeros(groups, o // groups, self.count)
            cells.index_add_(2, term, on << bit)     # distinct bits: the sum is their OR
            if self.word_bits == 32:   # as int32 values: the same 32 bits
                cells = torch.where(cells >= 1 << 31, cells - (1 << 32), cells).to(torch.int32)
            planes.append(cells)
        return torch.stack(planes, -1).transpose(1, 2).contiguous()


def _signed(bits: int, width: int) -> int:
    """The same ``width`` bits as a signed integer of that width."""
    return bits - (1 << width) if bits >= 1 << (width - 1) else bits


def available(x: torch.Tensor, levels: torch.Tensor, bits: int, cell_bits: int) -> bool:
    """The kernel applies: CPU float32, at most 8 input planes and 4-bit cells, every cell an
    exact integer level."""
    if not (x.device.type == "cpu" and x.dtype == torch.float32 and bits <= MAX_PLANES
            and cell_bits <= MAX_CELL_BITS and native.library(32) is not None
            and native.library(64) is not None):
        return False
    return bool((levels == levels.round()).all())


_BUFFERS: dict[tuple, torch.Tensor] = {}


def _buffer(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """A work buffer reused across calls: a fresh multi-MB tensor costs page faults."""
    key = shape + (dtype,)
    if key not in _BUFFERS:
        if len(_BUFFERS) > 64:
            _BUFFERS.clear()
        _BUFFERS[key] = torch.empty(shape, dtype=dtype)
    return _BUFFERS[key]


def out_size(size: tuple[int, int], kernel_size, stride, padding, dilation) -> tuple[int, int]:
    """A convolution's output height and width (PyTorch's formula)."""
    return tuple((size[d] + 2 * padding[d] - dilation[d] * (kernel_size[d] - 1) - 1) // stride[d] + 1
                 for d in range(2))


@torch.no_grad()
def read(codes: torch.Tensor, levels: torch.Tensor, terms: Terms, conv: dict | None,
         groups: int, bits: int, bit_serial: bool, place: torch.Tensor, colscale: torch.Tensor,
         slices: int, cell_bits: int, grid: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
         refcoef: torch.Tensor | None = None, ref_grid=None) -> tuple[torch.Tensor, int]:
    """((N, O, L) Σ over subarrays, columns and planes of the ADC-read partial sums times each
    column's weight ``colscale`` (g, A, Oc) and each plane's ``place`` value, ADC conversions
    made per image). ``codes``: integer activation codes (N, C, H, W) or (N, C); ``levels``:
    (G·Oc, R) integer cell levels; ``grid``: the ADC's (lo, hi, step), each one value or one
    per column (g, A, Oc, ...), None for no ADC; ``refcoef`` (g, A, O/g): each subarray's
    reference column (its input rows' popcount) read through ``ref_grid`` (None: exact) and
    weighted by each output's offset; None: no reference column."""
    lib = native.library(terms.word_bits)
    if conv is None:
        codes = codes[:, :, None, None]
        conv = dict(kernel_size=(1, 1), dilation=(1, 1), padding=(0, 0), stride=(1, 1))
    n, c, h, w = codes.shape
    (ph, pw), (sh, sw) = conv["padding"], conv["stride"]
    ho, wo = out_size((h, w), **conv)
    planes, g = bits, groups
    oc = levels.shape[0] // g
    code8 = codes.round().clamp_(0, 2 ** bits - 1).to(torch.uint8)
    code8 = code8.permute(0, 2, 3, 1).contiguous()          # channels last: one pixel's codes
    hp, wp = h + 2 * ph, w + 2 * pw
    packed = _buffer((planes, n, hp, wp, g, terms.words), _DTYPE[terms.word_bits])  # all written
    lib.pack_planes(code8.data_ptr(), n, c, h, w, planes, g, terms.words, ph, pw, 0, n,
                    packed.data_ptr())
    cells = terms.pack_weight(levels, g, cell_bits)
    di, dj = terms.kernel_shift(conv["dilation"])
    shape = (g, terms.arrays, oc)
    ranges = None if grid is None else [v.detach().float().reshape(
        v.shape[:3] if v.dim() > 2 else ()).expand(shape).contiguous() for v in grid]
    colscale = colscale.detach().float().expand(shape).contiguous()
    scale = (place if bit_serial else place[:1]).detach().float().contiguous()
    out = torch.empty(n, g * oc // slices, ho, wo)
    reads = torch.zeros(n, dtype=torch.int64)
    # Slice-major column order: the kernel's blocks of adjacent columns then hold one bit slice
    # of several outputs, so a block of high slices (mostly off) skips its all-off terms.
    order = torch.arange(oc).reshape(-1, slices).t().reshape(-1)
    cells = cells[:, :, order].contiguous()
    colscale = colscale[..., order].contiguous()
    if ranges is not None:
        ranges = [r[..., order].contiguous() for r in ranges]
    col_out = (order // slices).to(torch.int32)
    pointers = [0, 0, 0] if ranges is None else [r.data_ptr() for r in ranges]
    if refcoef is not None:
        refcoef = refcoef.detach().float().contiguous()
    ref_range = None if ref_grid is None else torch.stack(
        [v.detach().float().reshape(()) for v in ref_grid]).contiguous()
    failed = lib.read_arrays(
        packed.data_ptr(), planes, n, hp, wp, g, terms.words, terms.arrays,
        *(t.data_ptr() for t in (terms.start, terms.part_start, di, dj, terms.word,
                                 terms.mask, terms.shr, terms.shl, cells)),
        cells.shape[1], oc, slices, col_out.data_ptr(), cell_bits, ho, wo, sh, sw,
        int(bit_serial),
        *pointers, colscale.data_ptr(), 0 if refcoef is None else refcoef.data_ptr(),
        0 if ref_range is None else ref_range.data_ptr(), scale.data_ptr(), 0, n, out.data_ptr(),
        reads.data_ptr())
    if failed:
        raise MemoryError("crossbar popcount read: out of memory")
    return out.reshape(n, -1, ho * wo), int(reads[0]) if n else 0
