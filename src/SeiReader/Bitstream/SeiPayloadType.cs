namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>SEI <c>payloadType</c> values used here (H.264 Annex D, H.265 Annex D).</summary>
    public static class SeiPayloadType
    {
        /// <summary>buffering_period.</summary>
        public const int BufferingPeriod = 0;

        /// <summary>pic_timing.</summary>
        public const int PicTiming = 1;

        /// <summary>user_data_registered_itu_t_t35.</summary>
        public const int UserDataRegistered = 4;

        /// <summary>user_data_unregistered: a 16-byte UUID followed by free-form bytes.</summary>
        public const int UserDataUnregistered = 5;

        /// <summary>recovery_point.</summary>
        public const int RecoveryPoint = 6;
    }
}
