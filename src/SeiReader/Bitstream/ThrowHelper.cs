using System;
using System.Diagnostics.CodeAnalysis;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>Throw sites kept out of the hot methods so those stay small enough to inline.</summary>
    internal static class ThrowHelper
    {
        [DoesNotReturn]
        public static void ThrowArgumentOutOfRange(string paramName, string message) =>
            throw new ArgumentOutOfRangeException(paramName, message);

        [DoesNotReturn]
        public static void ThrowArgument(string paramName, string message) =>
            throw new ArgumentException(message, paramName);

        [DoesNotReturn]
        public static void ThrowBitstream(BitstreamError error, int offset) =>
            throw new BitstreamException(error, offset);

        [DoesNotReturn]
        public static void ThrowDestinationTooShort(string paramName, int needed, int actual) =>
            throw new ArgumentException($"The destination holds {actual} bytes but {needed} are needed.", paramName);
    }
}
