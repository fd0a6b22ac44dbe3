namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>What is wrong with malformed bytes; reported together with the offset of the fault.</summary>
    public enum BitstreamError
    {
        /// <summary>No error.</summary>
        None,

        /// <summary>Annex B data holds non-zero bytes before its first start code, or no start code at all.</summary>
        MissingStartCode,

        /// <summary>A NAL unit has no bytes (two start codes in a row, or a length prefix of 0).</summary>
        EmptyNalUnit,

        /// <summary>A NAL unit is shorter than its header (1 byte in H.264, 2 in H.265).</summary>
        TruncatedNalHeader,

        /// <summary>The <c>forbidden_zero_bit</c> of a NAL unit header is 1 (H.264 7.4.1, H.265 7.4.2.1).</summary>
        ForbiddenZeroBitSet,

        /// <summary>H.265 <c>nuh_temporal_id_plus1</c> is 0 (H.265 7.4.2.2).</summary>
        InvalidTemporalId,

        /// <summary>The buffer ends inside a NAL length prefix.</summary>
        TruncatedLengthPrefix,

        /// <summary>A NAL length prefix points past the end of the buffer.</summary>
        LengthPastEnd,

        /// <summary>An SEI <c>payloadType</c> (0xFF-coded) runs past the end of the SEI RBSP.</summary>
        TruncatedSeiPayloadType,

        /// <summary>An SEI <c>payloadSize</c> (0xFF-coded) runs past the end of the SEI RBSP.</summary>
        TruncatedSeiPayloadSize,

        /// <summary>An SEI <c>payloadSize</c> is larger than the bytes left in the SEI RBSP.</summary>
        SeiPayloadPastEnd,

        /// <summary>A user_data_unregistered payload is shorter than its 16-byte UUID.</summary>
        UserDataTooShort,

        /// <summary>A NAL unit that should be an SEI NAL unit is of another type.</summary>
        NotSeiNalUnit,

        /// <summary>Decoder configuration (avcC/hvcC) is shorter than its fields say.</summary>
        TruncatedConfiguration,

        /// <summary>Decoder configuration has a <c>configurationVersion</c> other than 1.</summary>
        UnsupportedConfigurationVersion,

        /// <summary>Decoder configuration has <c>lengthSizeMinusOne</c> = 2 (3-byte lengths are not allowed).</summary>
        InvalidLengthSize,

        /// <summary>A parameter set in the decoder configuration is not of the type its array says.</summary>
        UnexpectedParameterSetType,

        /// <summary>A NAL unit is too long for the length prefix size it must be written with.</summary>
        NalTooLongForLengthSize,

        /// <summary>An access unit holds no VCL NAL unit (no coded slice), so an SEI cannot be spliced into it.</summary>
        NoVclNalUnit,
    }
}
