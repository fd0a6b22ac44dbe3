using CatEvening.FFmpegInterop;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiInjector.Timing;

/// <summary>The picture order count of one access unit (H.264 8.2.1, H.265 8.3.1).</summary>
/// <param name="Value">PicOrderCnt of the picture (the top field's for a field pair), MSB included.</param>
/// <param name="Reset">The picture starts a new count (H.264 IDR, H.265 IDR or BLA): values before it are not comparable.</param>
/// <param name="UnitsPerFrame">Count units between two frames next to each other in display order as encoders write them:
/// 2 for H.264 (a field each), 1 for H.265.</param>
public readonly record struct PictureOrderCount(long Value, bool Reset, int UnitsPerFrame);

/// <summary>
/// Reads the picture order count of each access unit of an H.264 or H.265 stream, in decode order, and keeps the state the
/// count's most significant part is derived from; also the stream's frame rate (VUI timing) and reorder depth as the
/// parameter sets on the way tell them. One job: display order. Used to stamp raw Annex B input
/// (<see cref="RawVideoTimestamps"/>) and to give a PES without PTS the presentation time its encoder meant
/// (<see cref="TimestampTrack"/>).
/// </summary>
/// <remarks>
/// <para>Parses only what picture order needs: H.264 SPS (7.3.2.1.1) and VUI (E.1.1), slice header up to
/// <c>delta_pic_order_cnt_bottom</c> (7.3.3), picture order count types 0 and 2 (8.2.1.1, 8.2.1.3; type 1 is not read);
/// H.265 VPS timing (7.3.2.1), SPS and its VUI to <c>vui_timing_info</c> (7.3.2.2, E.2.1), PPS (7.3.2.3), slice segment
/// header up to <c>slice_pic_order_cnt_lsb</c> (7.3.6.1) and 8.3.1. Parameter set state: the last one seen wins (streams
/// with several ids rarely change the fields used here).</para>
/// <para>Cost per access unit: in Annex B a start code search over the NAL units before the first slice (delimiter,
/// parameter sets, SEI) and the slice's first 64 bytes unescaped; the rest of the slice is not touched.
/// Length-prefixed: one length read per NAL unit. No allocation once constructed.</para>
/// Not thread-safe.
/// </remarks>
public sealed class PictureOrder
{
    // Parameter sets are small; longer NAL units are cut at the scratch size.
    private const int ScratchSize = 256;

    // A slice header up to the picture order count takes at most about 16 bytes (H.264: five ue(v) and two fields of at
    // most 16 bits; H.265 fewer), plus emulation prevention bytes.
    private const int SliceHeaderWindow = 64;

    private readonly VideoCodec _codec;
    private readonly NalFraming _framing;
    private readonly byte[] _scratch = new byte[ScratchSize];

    private int _log2MaxFrameNum = 4, _pocType, _log2MaxPocLsb = 4;
    private bool _frameMbsOnly = true, _separateColourPlane, _outputFlagPresent;
    private int _extraSliceHeaderBits;
    private long _prevPocMsb, _prevPocLsb, _prevFrameNum, _frameNumOffset;

    /// <summary>Creates a reader for one stream.</summary>
    /// <param name="codec">H.264 or H.265.</param>
    /// <param name="framing">How the access units are framed (Annex B in MPEG-TS and raw input).</param>
    public PictureOrder(VideoCodec codec, NalFraming framing = default)
    {
        _codec = codec;
        _framing = framing;
    }

    /// <summary>Count units between display-adjacent frames as encoders write them (see <see cref="PictureOrderCount.UnitsPerFrame"/>).</summary>
    public int UnitsPerFrame => _codec == VideoCodec.H264 ? 2 : 1;

    /// <summary>The frame rate the stream's VUI timing (H.264/H.265 SPS, else the H.265 VPS) gives, or null when none was read.</summary>
    public Rational? FrameRate { get; private set; }

    /// <summary>Where <see cref="FrameRate"/> came from: <c>sps</c>, <c>vps</c>, or null.</summary>
    public string? FrameRateSource { get; private set; }

    /// <summary>The stream's reorder depth in frames (H.264 <c>max_num_reorder_frames</c>, H.265 <c>sps_max_num_reorder_pics</c>), or -1 when not given.</summary>
    public int Reorder { get; private set; } = -1;

    /// <summary>Reads the parameter sets in <paramref name="data"/> (a codec configuration in the reader's framing, or any
    /// NAL units); slices are ignored.</summary>
    public void ReadParameterSets(ReadOnlySpan<byte> data) => Walk(data, readSlice: false, out _);

    /// <summary>
    /// The picture order count of the access unit, reading the parameter sets it carries first; false when it has no
    /// slice this reader can parse (no slice, a truncated header, H.264 picture order count type 1). Call once per access
    /// unit, in decode order: the count's high part depends on the pictures before it.
    /// </summary>
    public bool TryRead(ReadOnlySpan<byte> accessUnit, out PictureOrderCount poc) => Walk(accessUnit, readSlice: true, out poc);

    private bool Walk(ReadOnlySpan<byte> data, bool readSlice, out PictureOrderCount poc)
    {
        poc = default;
        if (!_framing.IsAnnexB)
        {
            var reader = new NalUnitReader(data, _codec, _framing);
            while (reader.Read(out var nal) == ReadStatus.Success)
                if (ReadNal(nal.GetBytes(data), readSlice, ref poc) is { } done) return done;
            return false;
        }
        // Annex B: only the NAL units before the first slice are delimited (a start code search each); of the slice only
        // its first bytes are read, and where it ends does not matter (the window may run into the next NAL unit's bytes,
        // after the fields read).
        var at = AnnexB.IndexOfStartCode(data);
        while (at >= 0 && at + 3 < data.Length)
        {
            var start = at + 3;
            if (IsSlice(data[start..])) return ReadNal(data[start..Math.Min(data.Length, start + SliceHeaderWindow)], readSlice, ref poc) ?? false;
            var next = AnnexB.IndexOfStartCode(data[start..]);
            var end = next < 0 ? data.Length : start + next;
            if (ReadNal(data[start..TrimZeros(data, start, end)], readSlice, ref poc) is { } done) return done;
            if (next < 0) break;
            at = end;
        }
        return false;
    }

    // A slice's trailing zero bytes belong to the next start code (a 4-byte start code's leading zero).
    private static int TrimZeros(ReadOnlySpan<byte> data, int start, int end)
    {
        while (end > start && data[end - 1] == 0) end--;
        return end;
    }

    // A unit whose header is unreadable (forbidden_zero_bit set, H.265 TemporalId 0 or a header cut short) is never a
    // slice: the walk passes over it to the next unit.
    private bool IsSlice(ReadOnlySpan<byte> unit) =>
        NalHeader.TryRead(_codec, unit, out var header, out _) == ReadStatus.Success && (_codec == VideoCodec.H264 ? header.Type is 1 or 5 : header.Type <= 21);

    // Reads one NAL unit: a parameter set into the state, the first slice of a picture into `poc`. Non-null ends the
    // walk: true with a count, false when the first slice could not be read.
    private bool? ReadNal(ReadOnlySpan<byte> bytes, bool readSlice, ref PictureOrderCount poc)
    {
        var header = NalHeader.GetLength(_codec);
        if (bytes.Length <= header) return null;
        // A unit whose header is unreadable (an encoder's broken unit) is passed over, as FFmpeg's parser does.
        if (NalHeader.TryRead(_codec, bytes, out _, out _) != ReadStatus.Success) return null;
        try
        {
            if (_codec == VideoCodec.H264)
            {
                var type = bytes[0] & 0x1f;
                var refIdc = (bytes[0] >> 5) & 3;
                if (type == 7) ReadH264Sps(Unescape(bytes[header..]));
                else if (type is 1 or 5)
                {
                    if (!readSlice) return null;
                    if (!TryH264Poc(Unescape(bytes[header..]), type == 5, refIdc != 0, out var value, out var reset)) return false;
                    poc = new PictureOrderCount(value, reset, UnitsPerFrame);
                    return true;
                }
            }
            else
            {
                var type = (bytes[0] >> 1) & 0x3f;
                var temporalId = (bytes[1] & 7) - 1;
                if (type == 32) ReadH265Vps(Unescape(bytes[header..]));
                else if (type == 33) ReadH265Sps(Unescape(bytes[header..]));
                else if (type == 34) ReadH265Pps(Unescape(bytes[header..]));
                else if (type <= 21)
                {
                    if (!readSlice) return null;
                    if (!TryH265Poc(Unescape(bytes[header..]), type, temporalId, out var value, out var reset)) return false;
                    poc = new PictureOrderCount(value, reset, UnitsPerFrame);
                    return true;
                }
            }
        }
        catch (IndexOutOfRangeException)
        {
            // A truncated parameter set or slice header: keep what was read so far.
            if (readSlice && IsSlice(bytes)) return false;
        }
        return null;
    }

    private ReadOnlySpan<byte> Unescape(ReadOnlySpan<byte> ebsp)
    {
        var head = ebsp[..Math.Min(ebsp.Length, _scratch.Length)];
        var n = Rbsp.Unescape(head, _scratch);
        return _scratch.AsSpan(0, n);
    }

    // H.264 7.3.2.1.1 seq_parameter_set_data() and E.1.1 vui_parameters().
    private void ReadH264Sps(ReadOnlySpan<byte> rbsp)
    {
        var r = new BitReader(rbsp);
        var profile = r.Bits(8);
        r.Bits(16); // constraint flags, level_idc
        r.Ue(); // seq_parameter_set_id
        if (profile is 100 or 110 or 122 or 244 or 44 or 83 or 86 or 118 or 128 or 138 or 139 or 134 or 135)
        {
            var chroma = r.Ue();
            if (chroma == 3) _separateColourPlane = r.Bit();
            r.Ue(); r.Ue(); r.Bit(); // bit depths, qpprime_y_zero_transform_bypass_flag
            if (r.Bit())
            {
                for (var i = 0; i < (chroma == 3 ? 12 : 8); i++)
                {
                    if (!r.Bit()) continue;
                    int last = 8, next = 8;
                    for (var j = 0; j < (i < 6 ? 16 : 64) && next != 0; j++)
                    {
                        next = (last + r.Se() + 256) % 256;
                        if (next != 0) last = next;
                    }
                }
            }
        }
        _log2MaxFrameNum = r.Ue() + 4;
        _pocType = r.Ue();
        if (_pocType == 0) _log2MaxPocLsb = r.Ue() + 4;
        else if (_pocType == 1)
        {
            r.Bit(); r.Se(); r.Se();
            for (var n = r.Ue(); n > 0; n--) r.Se();
        }
        r.Ue(); r.Bit(); r.Ue(); r.Ue(); // max_num_ref_frames, gaps, width, height
        _frameMbsOnly = r.Bit();
        if (!_frameMbsOnly) r.Bit();
        r.Bit(); // direct_8x8_inference_flag
        if (r.Bit()) { r.Ue(); r.Ue(); r.Ue(); r.Ue(); }
        if (!r.Bit()) return;
        if (r.Bit() && r.Bits(8) == 255) r.Bits(32); // aspect_ratio_idc, Extended_SAR
        if (r.Bit()) r.Bit(); // overscan
        if (r.Bit())
        {
            r.Bits(4);
            if (r.Bit()) r.Bits(24);
        }
        if (r.Bit()) { r.Ue(); r.Ue(); }
        if (r.Bit())
        {
            var unitsInTick = r.Bits(32);
            var timeScale = r.Bits(32);
            r.Bit();
            // A frame is two field ticks (E.2.1).
            if (unitsInTick > 0 && timeScale > 0 && timeScale <= int.MaxValue && unitsInTick * 2 <= int.MaxValue)
            {
                FrameRate = new Rational((int)timeScale, (int)(unitsInTick * 2));
                FrameRateSource = "sps";
            }
        }
        var nalHrd = r.Bit();
        if (nalHrd) SkipHrd(ref r);
        var vclHrd = r.Bit();
        if (vclHrd) SkipHrd(ref r);
        if (nalHrd || vclHrd) r.Bit();
        r.Bit(); // pic_struct_present_flag
        if (r.Bit())
        {
            r.Bit(); r.Ue(); r.Ue(); r.Ue(); r.Ue();
            Reorder = r.Ue();
        }
    }

    private static void SkipHrd(ref BitReader r)
    {
        var count = r.Ue() + 1;
        r.Bits(8);
        for (var i = 0; i < count; i++) { r.Ue(); r.Ue(); r.Bit(); }
        r.Bits(20);
    }

    // H.264 7.3.3 slice_header() to the picture order count fields, then 8.2.1.1 (type 0) or 8.2.1.3 (type 2).
    private bool TryH264Poc(ReadOnlySpan<byte> rbsp, bool idr, bool reference, out long poc, out bool reset)
    {
        poc = 0;
        reset = idr;
        var r = new BitReader(rbsp);
        if (r.Ue() != 0) return false; // not the first slice of its picture
        r.Ue(); r.Ue(); // slice_type, pic_parameter_set_id
        if (_separateColourPlane) r.Bits(2);
        var frameNum = r.Bits(_log2MaxFrameNum);
        if (!_frameMbsOnly && r.Bit()) r.Bit();
        if (idr) r.Ue();
        if (_pocType == 0)
        {
            var lsb = r.Bits(_log2MaxPocLsb);
            if (idr) { _prevPocMsb = 0; _prevPocLsb = 0; }
            var max = 1L << _log2MaxPocLsb;
            var msb = lsb < _prevPocLsb && _prevPocLsb - lsb >= max / 2 ? _prevPocMsb + max
                : lsb > _prevPocLsb && lsb - _prevPocLsb > max / 2 ? _prevPocMsb - max
                : _prevPocMsb;
            poc = msb + lsb;
            if (reference) { _prevPocMsb = msb; _prevPocLsb = lsb; }
            return true;
        }
        if (_pocType == 2)
        {
            if (idr) _frameNumOffset = 0;
            else if (_prevFrameNum > frameNum) _frameNumOffset += 1L << _log2MaxFrameNum;
            _prevFrameNum = frameNum;
            poc = idr ? 0 : (2 * (_frameNumOffset + frameNum)) - (reference ? 0 : 1);
            return true;
        }
        return false;
    }

    // H.265 7.3.2.1 video_parameter_set_rbsp() to vps_timing_info.
    private void ReadH265Vps(ReadOnlySpan<byte> rbsp)
    {
        var r = new BitReader(rbsp);
        r.Bits(4); r.Bits(2); r.Bits(6);
        var maxSubLayersMinus1 = (int)r.Bits(3);
        r.Bit(); r.Bits(16);
        SkipProfileTierLevel(ref r, maxSubLayersMinus1);
        var infoPresent = r.Bit();
        for (var i = infoPresent ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) { r.Ue(); r.Ue(); r.Ue(); }
        var maxLayerId = (int)r.Bits(6);
        var sets = r.Ue();
        for (var i = 1; i <= sets; i++) r.Bits(maxLayerId + 1);
        if (!r.Bit()) return;
        var unitsInTick = r.Bits(32);
        var timeScale = r.Bits(32);
        if (FrameRateSource != "sps" && unitsInTick > 0 && timeScale > 0 && timeScale <= int.MaxValue && unitsInTick <= int.MaxValue)
        {
            FrameRate = new Rational((int)timeScale, (int)unitsInTick);
            FrameRateSource = "vps";
        }
    }

    // H.265 7.3.3 profile_tier_level(1, maxNumSubLayersMinus1).
    private static void SkipProfileTierLevel(ref BitReader r, int maxSubLayersMinus1)
    {
        r.Bits(32); r.Bits(32); r.Bits(32); // general profile (88 bits) and level (8 bits)
        Span<bool> profile = stackalloc bool[8];
        Span<bool> level = stackalloc bool[8];
        for (var i = 0; i < maxSubLayersMinus1; i++) { profile[i] = r.Bit(); level[i] = r.Bit(); }
        if (maxSubLayersMinus1 > 0)
            for (var i = maxSubLayersMinus1; i < 8; i++) r.Bits(2);
        for (var i = 0; i < maxSubLayersMinus1; i++)
        {
            if (profile[i]) { r.Bits(32); r.Bits(32); r.Bits(24); }
            if (level[i]) r.Bits(8);
        }
    }

    // H.265 7.3.2.2 seq_parameter_set_rbsp() to sps_max_num_reorder_pics.
    private void ReadH265Sps(ReadOnlySpan<byte> rbsp)
    {
        var r = new BitReader(rbsp);
        r.Bits(4);
        var maxSubLayersMinus1 = (int)r.Bits(3);
        r.Bit();
        SkipProfileTierLevel(ref r, maxSubLayersMinus1);
        r.Ue();
        if (r.Ue() == 3) _separateColourPlane = r.Bit();
        r.Ue(); r.Ue();
        if (r.Bit()) { r.Ue(); r.Ue(); r.Ue(); r.Ue(); }
        r.Ue(); r.Ue();
        _log2MaxPocLsb = r.Ue() + 4;
        var infoPresent = r.Bit();
        for (var i = infoPresent ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++)
        {
            r.Ue();
            Reorder = r.Ue();
            r.Ue();
        }
        r.Ue(); r.Ue(); r.Ue(); r.Ue(); r.Ue(); r.Ue(); // coding and transform block sizes, hierarchy depths
        if (r.Bit() && r.Bit()) SkipScalingListData(ref r);
        r.Bit(); r.Bit(); // amp_enabled_flag, sample_adaptive_offset_enabled_flag
        if (r.Bit()) { r.Bits(8); r.Ue(); r.Ue(); r.Bit(); } // pcm
        var sets = r.Ue();
        Span<int> deltaPocs = stackalloc int[65];
        for (var i = 0; i < sets && i < 64; i++) deltaPocs[i] = ShortTermRefPicSet(ref r, i, sets, deltaPocs);
        if (r.Bit())
        {
            for (var n = r.Ue(); n > 0; n--) { r.Bits(_log2MaxPocLsb); r.Bit(); }
        }
        r.Bit(); r.Bit(); // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
        if (!r.Bit()) return;
        // E.2.1 vui_parameters() to vui_timing_info.
        if (r.Bit() && r.Bits(8) == 255) r.Bits(32);
        if (r.Bit()) r.Bit();
        if (r.Bit())
        {
            r.Bits(4);
            if (r.Bit()) r.Bits(24);
        }
        if (r.Bit()) { r.Ue(); r.Ue(); }
        r.Bit(); r.Bit(); r.Bit(); // neutral_chroma_indication, field_seq, frame_field_info_present
        if (r.Bit()) { r.Ue(); r.Ue(); r.Ue(); r.Ue(); }
        if (!r.Bit()) return;
        var unitsInTick = r.Bits(32);
        var timeScale = r.Bits(32);
        if (unitsInTick > 0 && timeScale > 0 && timeScale <= int.MaxValue && unitsInTick <= int.MaxValue)
        {
            FrameRate = new Rational((int)timeScale, (int)unitsInTick);
            FrameRateSource = "sps";
        }
    }

    // H.265 7.3.4 scaling_list_data().
    private static void SkipScalingListData(ref BitReader r)
    {
        for (var size = 0; size < 4; size++)
        {
            for (var matrix = 0; matrix < 6; matrix += size == 3 ? 3 : 1)
            {
                if (!r.Bit())
                {
                    r.Ue();
                    continue;
                }
                var coefficients = Math.Min(64, 1 << (4 + (size << 1)));
                if (size > 1) r.Se();
                for (var i = 0; i < coefficients; i++) r.Se();
            }
        }
    }

    // H.265 7.3.7 st_ref_pic_set(stRpsIdx); returns NumDeltaPocs[stRpsIdx] (7.4.8).
    private static int ShortTermRefPicSet(ref BitReader r, int index, int count, scoped ReadOnlySpan<int> deltaPocs)
    {
        if (index != 0 && r.Bit())
        {
            var delta = index == count ? r.Ue() + 1 : 1;
            r.Bit(); r.Ue(); // delta_rps_sign, abs_delta_rps_minus1
            var reference = index - delta;
            if (reference < 0) throw new IndexOutOfRangeException("st_ref_pic_set refers before the first set");
            var n = 0;
            for (var j = 0; j <= deltaPocs[reference]; j++)
            {
                var used = r.Bit();
                if (used || r.Bit()) n++;
            }
            return n;
        }
        var negative = r.Ue();
        var positive = r.Ue();
        if (negative > 16 || positive > 16) throw new IndexOutOfRangeException("st_ref_pic_set with more than 16 pictures");
        for (var i = 0; i < negative + positive; i++) { r.Ue(); r.Bit(); }
        return negative + positive;
    }

    // H.265 7.3.2.3.1: pps_pic_parameter_set_id, pps_seq_parameter_set_id, dependent_slice_segments_enabled_flag,
    // output_flag_present_flag, num_extra_slice_header_bits.
    private void ReadH265Pps(ReadOnlySpan<byte> rbsp)
    {
        var r = new BitReader(rbsp);
        r.Ue(); r.Ue();
        r.Bit(); // dependent_slice_segments_enabled_flag: a first slice segment has no dependent_slice_segment_flag
        _outputFlagPresent = r.Bit();
        _extraSliceHeaderBits = (int)r.Bits(3);
    }

    // H.265 7.3.6.1 slice_segment_header() to slice_pic_order_cnt_lsb, then 8.3.1.
    private bool TryH265Poc(ReadOnlySpan<byte> rbsp, int type, int temporalId, out long poc, out bool reset)
    {
        poc = 0;
        reset = false;
        var r = new BitReader(rbsp);
        if (!r.Bit()) return false; // not the first slice segment of its picture
        var irap = type is >= 16 and <= 23;
        if (irap) r.Bit();
        r.Ue();
        r.Bits(_extraSliceHeaderBits);
        r.Ue(); // slice_type
        if (_outputFlagPresent) r.Bit();
        if (_separateColourPlane) r.Bits(2);
        var idr = type is 19 or 20;
        var bla = type is >= 16 and <= 18;
        long lsb = idr ? 0 : r.Bits(_log2MaxPocLsb);
        long msb;
        if (idr || bla)
        {
            msb = 0;
            reset = true;
        }
        else
        {
            var max = 1L << _log2MaxPocLsb;
            msb = lsb < _prevPocLsb && _prevPocLsb - lsb >= max / 2 ? _prevPocMsb + max
                : lsb > _prevPocLsb && lsb - _prevPocLsb > max / 2 ? _prevPocMsb - max
                : _prevPocMsb;
        }
        poc = msb + lsb;
        // prevTid0Pic: TemporalId 0 and not a RASL, RADL or sub-layer non-reference picture.
        var subLayerNonReference = type <= 14 && type % 2 == 0;
        if (temporalId == 0 && type is not (6 or 7 or 8 or 9) && !subLayerNonReference)
        {
            _prevPocMsb = msb;
            _prevPocLsb = lsb;
        }
        return true;
    }

    /// <summary>Big-endian bit reader over an RBSP; reading past the end throws <see cref="IndexOutOfRangeException"/>.</summary>
    private ref struct BitReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _bit;

        public bool Bit()
        {
            var b = (_data[_bit >> 3] >> (7 - (_bit & 7))) & 1;
            _bit++;
            return b != 0;
        }

        public long Bits(int n)
        {
            long v = 0;
            for (var i = 0; i < n; i++) v = (v << 1) | (Bit() ? 1L : 0L);
            return v;
        }

        // 9.1 ue(v): leadingZeroBits zeros, a one, then leadingZeroBits bits.
        public int Ue()
        {
            var zeros = 0;
            while (!Bit())
            {
                if (++zeros > 31) throw new IndexOutOfRangeException("ue(v) longer than 32 bits");
            }
            return (int)((1L << zeros) - 1 + Bits(zeros));
        }

        // 9.1.1 se(v).
        public int Se()
        {
            var k = Ue();
            return (k & 1) != 0 ? (k + 1) / 2 : -(k / 2);
        }
    }
}
