using System;
using System.Collections.Generic;

namespace CatEvening.SeiReader.Bitstream
{
    public sealed partial class CodecConfiguration
    {
        private const byte ConfigurationVersion = 1;
        private const int AvcCHeaderLength = 6;
        private const int HvcCHeaderLength = 23;

        /// <summary>
        /// ISO/IEC 14496-15 5.3.3.1 AVCDecoderConfigurationRecord:
        /// <code>
        /// 0 configurationVersion (1) | 1 AVCProfileIndication | 2 profile_compatibility | 3 AVCLevelIndication
        /// 4 reserved '111111'b + lengthSizeMinusOne u(2)
        /// 5 reserved '111'b + numOfSequenceParameterSets u(5), then { u(16) length, SPS }
        ///   numOfPictureParameterSets u(8), then { u(16) length, PPS }
        ///   (high profiles may add chroma/bit depth fields and SPS extensions; they are not needed here)
        /// </code>
        /// </summary>
        private static ReadStatus ParseAvcC(ReadOnlySpan<byte> data, List<ReadOnlyMemory<byte>> nalUnits, out NalFraming framing,
            out BitstreamError error, out int errorOffset)
        {
            framing = default;
            if (data.Length < AvcCHeaderLength) return Malformed(BitstreamError.TruncatedConfiguration, data.Length, out error, out errorOffset);
            if (data[0] != ConfigurationVersion) return Malformed(BitstreamError.UnsupportedConfigurationVersion, 0, out error, out errorOffset);
            if (!TryLengthSize(data[4] & 0x03, 4, out framing, out error, out errorOffset)) return ReadStatus.Malformed;

            int pos = AvcCHeaderLength;
            int spsCount = data[5] & 0x1F;
            for (int i = 0; i < spsCount; i++)
            {
                if (!TryReadSizedNal(VideoCodec.H264, data, ref pos, (int)H264NalUnitType.Sps, nalUnits, out error, out errorOffset))
                    return ReadStatus.Malformed;
            }
            if (pos >= data.Length) return Malformed(BitstreamError.TruncatedConfiguration, pos, out error, out errorOffset);
            int ppsCount = data[pos++];
            for (int i = 0; i < ppsCount; i++)
            {
                if (!TryReadSizedNal(VideoCodec.H264, data, ref pos, (int)H264NalUnitType.Pps, nalUnits, out error, out errorOffset))
                    return ReadStatus.Malformed;
            }
            error = BitstreamError.None;
            errorOffset = 0;
            return ReadStatus.Success;
        }

        /// <summary>
        /// ISO/IEC 14496-15 8.3.3.1 HEVCDecoderConfigurationRecord:
        /// <code>
        ///  0 configurationVersion (1) | 1 general_profile_space/tier/profile_idc | 2..5 compatibility flags
        ///  6..11 constraint flags | 12 general_level_idc | 13..14 min_spatial_segmentation_idc | 15 parallelismType
        /// 16 chromaFormat | 17 bitDepthLumaMinus8 | 18 bitDepthChromaMinus8 | 19..20 avgFrameRate
        /// 21 constantFrameRate u(2) numTemporalLayers u(3) temporalIdNested u(1) lengthSizeMinusOne u(2)
        /// 22 numOfArrays, then per array: array_completeness u(1) reserved u(1) NAL_unit_type u(6), numNalus u(16),
        ///    then { u(16) nalUnitLength, NAL unit }
        /// </code>
        /// </summary>
        private static ReadStatus ParseHvcC(ReadOnlySpan<byte> data, List<ReadOnlyMemory<byte>> nalUnits, out NalFraming framing,
            out BitstreamError error, out int errorOffset)
        {
            framing = default;
            if (data.Length < HvcCHeaderLength) return Malformed(BitstreamError.TruncatedConfiguration, data.Length, out error, out errorOffset);
            if (data[0] != ConfigurationVersion) return Malformed(BitstreamError.UnsupportedConfigurationVersion, 0, out error, out errorOffset);
            if (!TryLengthSize(data[21] & 0x03, 21, out framing, out error, out errorOffset)) return ReadStatus.Malformed;

            int arrays = data[22];
            int pos = HvcCHeaderLength;
            for (int a = 0; a < arrays; a++)
            {
                if (data.Length - pos < 3) return Malformed(BitstreamError.TruncatedConfiguration, pos, out error, out errorOffset);
                int type = data[pos] & 0x3F;
                int count = (data[pos + 1] << 8) | data[pos + 2];
                pos += 3;
                for (int i = 0; i < count; i++)
                {
                    if (!TryReadSizedNal(VideoCodec.H265, data, ref pos, type, nalUnits, out error, out errorOffset))
                        return ReadStatus.Malformed;
                }
            }
            error = BitstreamError.None;
            errorOffset = 0;
            return ReadStatus.Success;
        }

        private static bool TryLengthSize(int lengthSizeMinusOne, int offset, out NalFraming framing, out BitstreamError error, out int errorOffset)
        {
            if (lengthSizeMinusOne == 2)
            {
                framing = default;
                return Fail(BitstreamError.InvalidLengthSize, offset, out error, out errorOffset);
            }
            framing = NalFraming.LengthPrefixed(lengthSizeMinusOne + 1);
            error = BitstreamError.None;
            errorOffset = 0;
            return true;
        }

        private static ReadStatus Malformed(BitstreamError what, int where, out BitstreamError error, out int errorOffset)
        {
            error = what;
            errorOffset = where;
            return ReadStatus.Malformed;
        }
    }
}
