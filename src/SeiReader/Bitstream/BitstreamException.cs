using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Malformed H.264/H.265 bytes met by a throwing <c>GetX</c>/<c>Parse</c> method. The <c>TryX</c> and reader
    /// methods never throw it: they return <see cref="ReadStatus.Malformed"/> with the same error and offset.
    /// </summary>
    public sealed class BitstreamException : Exception
    {
        /// <summary>Creates the exception for <paramref name="error"/> at <paramref name="offset"/>.</summary>
        public BitstreamException(BitstreamError error, int offset)
            : base(Describe(error, offset))
        {
            Error = error;
            Offset = offset;
        }

        /// <summary>What is wrong.</summary>
        public BitstreamError Error { get; }

        /// <summary>Byte offset of the fault in the buffer that was parsed.</summary>
        public int Offset { get; }

        /// <summary>One sentence naming the fault and its offset, for logs and reports.</summary>
        public static string Describe(BitstreamError error, int offset) => error switch
        {
            BitstreamError.None => "no error",
            BitstreamError.MissingStartCode => $"no Annex B start code before byte {offset}",
            BitstreamError.EmptyNalUnit => $"empty NAL unit at byte {offset}",
            BitstreamError.TruncatedNalHeader => $"NAL unit at byte {offset} is shorter than its header",
            BitstreamError.ForbiddenZeroBitSet => $"forbidden_zero_bit is set in the NAL unit at byte {offset}",
            BitstreamError.InvalidTemporalId => $"nuh_temporal_id_plus1 is 0 in the NAL unit at byte {offset}",
            BitstreamError.TruncatedLengthPrefix => $"the buffer ends inside the NAL length prefix at byte {offset}",
            BitstreamError.LengthPastEnd => $"the NAL length at byte {offset} points past the end of the buffer",
            BitstreamError.TruncatedSeiPayloadType => $"SEI payloadType at byte {offset} runs past the end of the NAL unit",
            BitstreamError.TruncatedSeiPayloadSize => $"SEI payloadSize at byte {offset} runs past the end of the NAL unit",
            BitstreamError.SeiPayloadPastEnd => $"SEI payload at byte {offset} is longer than the rest of the NAL unit",
            BitstreamError.UserDataTooShort => $"user_data_unregistered payload at byte {offset} is shorter than its 16-byte UUID",
            BitstreamError.NotSeiNalUnit => $"the NAL unit at byte {offset} is not an SEI NAL unit",
            BitstreamError.TruncatedConfiguration => $"decoder configuration record ends early at byte {offset}",
            BitstreamError.UnsupportedConfigurationVersion => $"decoder configuration record at byte {offset} has a configurationVersion other than 1",
            BitstreamError.InvalidLengthSize => $"decoder configuration record has lengthSizeMinusOne = 2 at byte {offset}",
            BitstreamError.UnexpectedParameterSetType => $"parameter set at byte {offset} is not of the type its array declares",
            BitstreamError.NalTooLongForLengthSize => $"the NAL unit at byte {offset} is too long for the target length prefix",
            BitstreamError.NoVclNalUnit => $"the access unit holds no VCL NAL unit (checked {offset} bytes)",
            _ => $"{error} at byte {offset}",
        };
    }
}
