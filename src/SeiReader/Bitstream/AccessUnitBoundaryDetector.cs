using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Tells, NAL unit by NAL unit in decoding order, where a new access unit begins. State that survives between
    /// buffers lives in this plain struct.
    /// <code>
    /// H.264 7.4.1.2.3: after a coded slice, a new access unit starts with an AUD, SPS, PPS, SEI, types 14..18,
    ///   or the first slice of a new primary picture (first_mb_in_slice = 0, H.264 7.4.1.2.4).
    /// H.265 7.4.2.4.4: after a coded slice, a new access unit starts with an AUD, VPS, SPS, PPS, prefix SEI,
    ///   types 41..44 and 48..55, or a base-layer slice with first_slice_segment_in_pic_flag = 1.
    /// Both: whatever follows an end of sequence / end of stream starts a new access unit.
    /// </code>
    /// Arbitrary slice order (H.264 baseline ASO), whose first slice may not have first_mb_in_slice = 0, is not detected.
    /// </summary>
    public struct AccessUnitBoundaryDetector
    {
        private readonly VideoCodec _codec;
        private int _nalCount;
        private bool _seenVcl;
        private bool _ended;

        /// <summary>Creates a detector for <paramref name="codec"/>, expecting the first NAL unit of a stream.</summary>
        public AccessUnitBoundaryDetector(VideoCodec codec)
        {
            _codec = codec;
            _nalCount = 0;
            _seenVcl = false;
            _ended = false;
        }

        /// <summary>
        /// Feeds the next NAL unit; returns true when it is the first NAL unit of a new access unit (false for the
        /// very first NAL unit fed, which begins the first access unit).
        /// </summary>
        /// <param name="header">Its parsed header.</param>
        /// <param name="nal">The NAL unit, header included (the first slice header bit is read from it).</param>
        public bool StartsNewAccessUnit(NalHeader header, ReadOnlySpan<byte> nal)
        {
            bool starts = _nalCount > 0 && IsBoundary(header, nal);
            if (starts)
            {
                _nalCount = 0;
                _seenVcl = false;
                _ended = false;
            }
            _nalCount++;
            if (header.IsVcl) _seenVcl = true;
            if (header.IsEndOfSequence || header.IsEndOfStream) _ended = true;
            return starts;
        }

        private readonly bool IsBoundary(NalHeader header, ReadOnlySpan<byte> nal)
        {
            if (_ended || header.IsAccessUnitDelimiter) return true;
            if (!_seenVcl) return false;
            int type = header.Type;
            if (_codec == VideoCodec.H264)
            {
                if (type == 6 || type == 7 || type == 8 || (type >= 14 && type <= 18)) return true;
                return (type == 1 || type == 2 || type == 5) && IsFirstSliceOfPicture(nal, NalHeader.H264Length);
            }
            if ((type >= 32 && type <= 34) || type == 39 || (type >= 41 && type <= 44) || (type >= 48 && type <= 55)) return true;
            return header.IsVcl && header.LayerId == 0 && IsFirstSliceOfPicture(nal, NalHeader.H265Length);
        }

        // H.264 first_mb_in_slice ue(v) is 0 exactly when its first bit is 1; H.265 first_slice_segment_in_pic_flag
        // is the first bit. The byte after the header is never an emulation prevention byte.
        private static bool IsFirstSliceOfPicture(ReadOnlySpan<byte> nal, int headerLength) =>
            nal.Length > headerLength && (nal[headerLength] & 0x80) != 0;
    }
}
