using CatEvening.FFmpegInterop;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiInjector.Timing;

/// <summary>
/// Timestamps for a raw Annex B stream (no container timestamps): each access unit's DTS is its decode index times the
/// frame duration; its PTS is its place in presentation order, from the picture order count of its slice header (so
/// B-frames get the PTS an encoder would have given them), shifted by the stream's reorder depth so PTS ≥ DTS. The frame
/// duration comes from the SPS VUI timing (or the H.265 VPS timing), else from the frame rate given, else 25 fps.
/// </summary>
/// <remarks>
/// Parses only what picture order needs: H.264 SPS (7.3.2.1.1) and VUI (E.1.1), slice header up to
/// <c>delta_pic_order_cnt_bottom</c> (7.3.3), picture order count types 0 and 2 (8.2.1.1, 8.2.1.3); H.265 VPS timing
/// (7.3.2.1), SPS and its VUI to <c>vui_timing_info</c> (7.3.2.2, E.2.1), PPS (7.3.2.3), slice segment header up to
/// <c>slice_pic_order_cnt_lsb</c> (7.3.6.1) and 8.3.1. An access unit it cannot read goes out one frame after the last,
/// in decode order. Allocation-free per packet once the parameter sets are read.
/// </remarks>
public sealed class RawVideoTimestamps
{
    private readonly VideoCodec _codec;
    private readonly Rational _timeBase;
    private readonly Rational? _forcedRate;
    private readonly byte[] _scratch = new byte[256];
    private long _decodeIndex, _gopBase, _highestIndex = -1;
    private int _pocStep;

    // Parameter set state (the last one seen wins; streams with several ids rarely change the fields used here).
    private int _log2MaxFrameNum = 4, _pocType, _log2MaxPocLsb = 4, _reorder = -1;
    private bool _frameMbsOnly = true, _separateColourPlane, _outputFlagPresent;
    private int _extraSliceHeaderBits;
    private long _prevPocMsb, _prevPocLsb, _prevFrameNum, _frameNumOffset;

    /// <summary>Creates the stamper.</summary>
    /// <param name="codec">H.264 or H.265.</param>
    /// <param name="timeBase">Time base of the timestamps to make (the raw demuxer's video time base).</param>
    /// <param name="frameRate">A frame rate that overrides the stream's own timing; null to use the stream's, or 25.</param>
    public RawVideoTimestamps(VideoCodec codec, Rational timeBase, Rational? frameRate)
    {
        _codec = codec;
        _timeBase = timeBase;
        _forcedRate = frameRate;
        _pocStep = codec == VideoCodec.H264 ? 2 : 1;
        FrameRate = frameRate ?? new Rational(25, 1);
    }

    /// <summary>The frame rate in use: the one given, else the stream's timing once read, else 25.</summary>
    public Rational FrameRate { get; private set; }

    /// <summary>Where the frame rate came from: <c>option</c>, <c>sps</c>, <c>vps</c> or <c>default</c>.</summary>
    public string FrameRateSource { get; private set; } = "default";

    /// <summary>Reads the parameter sets in the codec configuration (extradata), if any.</summary>
    public void ReadConfiguration(ReadOnlySpan<byte> extradata)
    {
        if (_forcedRate is not null) FrameRateSource = "option";
        if (!extradata.IsEmpty && AnnexB.StartsWithStartCode(extradata)) Walk(extradata, stampOnly: false, out _, out _);
    }

    /// <summary>Timestamps for the next access unit (Annex B bytes), in the time base given.</summary>
    public (long Pts, long Dts) Next(ReadOnlySpan<byte> accessUnit)
    {
        var read = Walk(accessUnit, stampOnly: true, out var poc, out var irapReset);
        var duration = new Rational(FrameRate.Denominator, FrameRate.Numerator).Rescale(1, _timeBase);
        var dts = _decodeIndex * duration;
        _decodeIndex++;
        long index;
        if (read)
        {
            if (irapReset) _gopBase = _highestIndex + 1;
            index = _gopBase + (poc / _pocStep);
        }
        else
        {
            index = _highestIndex + 1;
        }
        if (index > _highestIndex) _highestIndex = index;
        var delay = _reorder >= 0 ? _reorder : 2;
        return ((index + delay) * duration, dts);
    }

    // Walks the NAL units: reads parameter sets; for the first slice, its picture order count. False when no slice
    // could be read.
    private bool Walk(ReadOnlySpan<byte> data, bool stampOnly, out long poc, out bool irapReset)
    {
        poc = 0;
        irapReset = false;
        var found = false;
        var reader = new NalUnitReader(data, _codec, NalFraming.AnnexB);
        while (reader.Read(out var nal) == ReadStatus.Success)
        {
            var bytes = nal.GetBytes(data);
            var header = NalHeader.GetLength(_codec);
            if (bytes.Length <= header) continue;
            var rbsp = Unescape(bytes[header..]);
            try
            {
                if (_codec == VideoCodec.H264)
                {
                    var type = bytes[0] & 0x1f;
                    var refIdc = (bytes[0] >> 5) & 3;
                    if (type == 7) ReadH264Sps(rbsp);
                    else if ((type is 1 or 5) && !found && stampOnly)
                        found = TryH264Poc(rbsp, type == 5, refIdc != 0, out poc, out irapReset);
                }
                else
                {
                    var type = (bytes[0] >> 1) & 0x3f;
                    var temporalId = (bytes[1] & 7) - 1;
                    if (type == 32) ReadH265Vps(rbsp);
                    else if (type == 33) ReadH265Sps(rbsp);
                    else if (type == 34) ReadH265Pps(rbsp);
                    else if (type <= 21 && !found && stampOnly)
                        found = TryH265Poc(rbsp, type, temporalId, out poc, out irapReset);
                }
            }
            catch (IndexOutOfRangeException)
            {
                // A truncated parameter set or slice header: keep what was read so far.
            }
        }
        return found;
    }

    // Slice headers need only their first bytes; parameter sets are small. Longer NAL units are cut at the scratch size.
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
            if (_forcedRate is null && unitsInTick > 0 && timeScale > 0 && timeScale <= int.MaxValue && unitsInTick * 2 <= int.MaxValue)
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
            _reorder = r.Ue();
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
        if (_forcedRate is null && FrameRateSource == "default" && unitsInTick > 0 && timeScale > 0 && timeScale <= int.MaxValue && unitsInTick <= int.MaxValue)
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
            _reorder = r.Ue();
            r.Ue();
        }
        r.Ue(); r.Ue(); r.Ue(); r.Ue(); r.Ue(); r.Ue(); // coding and transform block sizes, hierarchy depths
        if (r.Bit() && r.Bit()) SkipScalingListData(ref r);
        r.Bit(); r.Bit(); // amp_enabled_flag, sample_adaptive_offset_enabled_flag
        if (r.Bit()) { r.Bits(8); r.Ue(); r.Ue(); r.Bit(); } // pcm
        var sets = r.Ue();
        var deltaPocs = new int[65];
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
        if (_forcedRate is null && unitsInTick > 0 && timeScale > 0 && timeScale <= int.MaxValue && unitsInTick <= int.MaxValue)
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
    private static int ShortTermRefPicSet(ref BitReader r, int index, int count, ReadOnlySpan<int> deltaPocs)
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
