namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>H.264 <c>nal_unit_type</c> values (H.264 Table 7-1).</summary>
    public enum H264NalUnitType
    {
        /// <summary>Unspecified.</summary>
        Unspecified = 0,
        /// <summary>Coded slice of a non-IDR picture (VCL).</summary>
        NonIdrSlice = 1,
        /// <summary>Coded slice data partition A (VCL).</summary>
        SliceDataPartitionA = 2,
        /// <summary>Coded slice data partition B (VCL).</summary>
        SliceDataPartitionB = 3,
        /// <summary>Coded slice data partition C (VCL).</summary>
        SliceDataPartitionC = 4,
        /// <summary>Coded slice of an IDR picture (VCL).</summary>
        IdrSlice = 5,
        /// <summary>Supplemental enhancement information.</summary>
        Sei = 6,
        /// <summary>Sequence parameter set.</summary>
        Sps = 7,
        /// <summary>Picture parameter set.</summary>
        Pps = 8,
        /// <summary>Access unit delimiter.</summary>
        AccessUnitDelimiter = 9,
        /// <summary>End of sequence.</summary>
        EndOfSequence = 10,
        /// <summary>End of stream.</summary>
        EndOfStream = 11,
        /// <summary>Filler data.</summary>
        FillerData = 12,
        /// <summary>Sequence parameter set extension.</summary>
        SpsExtension = 13,
        /// <summary>Prefix NAL unit (SVC/MVC).</summary>
        PrefixNalUnit = 14,
        /// <summary>Subset sequence parameter set.</summary>
        SubsetSps = 15,
        /// <summary>Depth parameter set.</summary>
        DepthParameterSet = 16,
        /// <summary>Coded slice of an auxiliary coded picture without partitioning.</summary>
        AuxiliarySlice = 19,
        /// <summary>Coded slice extension (SVC/MVC, VCL).</summary>
        SliceExtension = 20,
        /// <summary>Coded slice extension for a depth view component (VCL).</summary>
        DepthSliceExtension = 21,
    }

    /// <summary>H.265 <c>nal_unit_type</c> values (H.265 Table 7-1).</summary>
    public enum H265NalUnitType
    {
        /// <summary>Trailing picture, non-reference (VCL).</summary>
        TrailN = 0,
        /// <summary>Trailing picture, reference (VCL).</summary>
        TrailR = 1,
        /// <summary>Temporal sub-layer access, non-reference (VCL).</summary>
        TsaN = 2,
        /// <summary>Temporal sub-layer access, reference (VCL).</summary>
        TsaR = 3,
        /// <summary>Step-wise temporal sub-layer access, non-reference (VCL).</summary>
        StsaN = 4,
        /// <summary>Step-wise temporal sub-layer access, reference (VCL).</summary>
        StsaR = 5,
        /// <summary>Random access decodable leading, non-reference (VCL).</summary>
        RadlN = 6,
        /// <summary>Random access decodable leading, reference (VCL).</summary>
        RadlR = 7,
        /// <summary>Random access skipped leading, non-reference (VCL).</summary>
        RaslN = 8,
        /// <summary>Random access skipped leading, reference (VCL).</summary>
        RaslR = 9,
        /// <summary>Broken link access with leading pictures (IRAP).</summary>
        BlaWLp = 16,
        /// <summary>Broken link access with RADL pictures (IRAP).</summary>
        BlaWRadl = 17,
        /// <summary>Broken link access without leading pictures (IRAP).</summary>
        BlaNLp = 18,
        /// <summary>Instantaneous decoding refresh with RADL pictures (IRAP).</summary>
        IdrWRadl = 19,
        /// <summary>Instantaneous decoding refresh without leading pictures (IRAP).</summary>
        IdrNLp = 20,
        /// <summary>Clean random access (IRAP).</summary>
        CraNut = 21,
        /// <summary>Video parameter set.</summary>
        Vps = 32,
        /// <summary>Sequence parameter set.</summary>
        Sps = 33,
        /// <summary>Picture parameter set.</summary>
        Pps = 34,
        /// <summary>Access unit delimiter.</summary>
        AccessUnitDelimiter = 35,
        /// <summary>End of sequence.</summary>
        EndOfSequence = 36,
        /// <summary>End of bitstream.</summary>
        EndOfBitstream = 37,
        /// <summary>Filler data.</summary>
        FillerData = 38,
        /// <summary>Prefix SEI.</summary>
        PrefixSei = 39,
        /// <summary>Suffix SEI.</summary>
        SuffixSei = 40,
    }
}
