namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>The video coding standard of an elementary stream.</summary>
    public enum VideoCodec
    {
        /// <summary>ITU-T H.264 / MPEG-4 AVC: 1-byte NAL unit header.</summary>
        H264,

        /// <summary>ITU-T H.265 / HEVC: 2-byte NAL unit header.</summary>
        H265,
    }
}
